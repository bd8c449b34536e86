// The plugin's own thread: one epoll loop over the monitors' subscription sockets. Each monitor
// writes one line per exit ("exit <exec> <pid> <code> <oom> <unix_nano>"); the watcher turns it
// into a typed sdk::TaskExit for the host's sink, exactly once per process. A subscription that ends without
// the container's exit line means the monitor died: `on_lost` decides what to report.
#pragma once

#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "berth/sdk/host.hpp"
#include "berth/sdk/isolation_backend.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

using ExitEvent = sdk::TaskExit;

class ExitWatcher {
 public:
  using LostFn = std::function<void(const std::string& id)>;

  ExitWatcher(sdk::TaskExitSink* exits, sdk::Logger* log, LostFn on_lost);
  ~ExitWatcher();
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  sdk::Status start();
  // Takes over a subscription socket (positioned after the monitor's "ok" line).
  void add(const std::string& id, UniqueFd fd);
  // Stops watching a task (its exits are no longer reported).
  void forget(const std::string& id);
  // Waits until the task's subscription ended (the monitor closes it right after the container's
  // exit line), every exit read from it emitted. False on timeout.
  bool wait_gone(const std::string& id, std::chrono::milliseconds timeout);
  void emit(const ExitEvent& event);

 private:
  struct Sub {
    uint64_t serial = 0;  // fds are reused: this tells a new subscription from an old one
    std::string id;
    UniqueFd fd;
    std::string buf;
    bool main_exited = false;
  };
  void loop();
  void on_readable(int fd);

  sdk::TaskExitSink* exits_;
  sdk::Logger* log_;
  LostFn on_lost_;
  UniqueFd epoll_, wake_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable gone_;
  std::map<int, Sub> subs_;  // by fd
  uint64_t next_serial_ = 1;
  bool stopping_ = false;
};

}  // namespace berth::plugins::isolation
