// berthd's lifetime: startup order, the objects it owns, shutdown.
//
// Startup: config → directories → data-root lock → plugins (before any socket opens: a
// configured driver that is not ok stops startup) → stores and managers (re-adopting what the
// previous run left) → routes → listen. SIGTERM/SIGINT stop it cleanly; containers keep running
// under their monitors (live restore).
#pragma once

#include <atomic>
#include <memory>

#include "core/common/result.hpp"
#include "core/config/daemon_config.hpp"

namespace berth::core::daemon {

class Daemon {
 public:
  explicit Daemon(config::DaemonConfig config);
  ~Daemon();
  // Runs until SIGTERM/SIGINT; returns the process exit status.
  int run();

 private:
  struct State;
  Status start();
  void stop();

  config::DaemonConfig config_;
  std::unique_ptr<State> state_;
  std::atomic<bool> stopping_{false};
};

}  // namespace berth::core::daemon
