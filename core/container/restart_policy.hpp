// Restart policies as moby's restartmanager applies them, pure: given how a run ended, whether
// the container starts again and after how long. The manager feeds it exits and keeps the
// returned backoff for the next one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace berth::core::container {

struct RestartPolicy {
  std::string name;      // "", "no", "always", "unless-stopped", "on-failure"
  int max_retries = 0;   // on-failure only; 0 = no limit
};

struct RunEnd {
  int exit_code = 0;
  int64_t ran_ms = 0;            // from start to exit
  bool stop_requested = false;   // stop, restart or rm asked for this exit
  bool manually_stopped = false; // a stop the container has not been started since
  bool removing = false;         // the container is being removed
  int restart_count = 0;         // restarts so far
};

struct RestartDecision {
  bool restart = false;
  std::chrono::milliseconds delay{0};  // before the restart
  int64_t backoff_ms = 0;              // keep for the next exit
};

inline constexpr int64_t kFirstBackoffMs = 100;
inline constexpr int64_t kMaxBackoffMs = 60000;
// A run that lasted this long resets the backoff.
inline constexpr int64_t kBackoffResetAfterMs = 10000;

// `previous_backoff_ms`: what the last decision returned (0 at first).
RestartDecision decide_restart(const RestartPolicy& policy, const RunEnd& end, int64_t previous_backoff_ms);

}  // namespace berth::core::container
