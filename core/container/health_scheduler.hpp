// Runs healthcheck probes for every container on one thread: the next probe of each container
// waits in a deadline-ordered table, the output streams of running probes in one epoll set, and
// probe exits arrive from the isolation backend's events (exec_exited). No thread per container,
// no thread per probe. A probe past its timeout is killed (through a pidfd taken while the exec
// was held, so a recycled pid is never hit) and counts as a failure.
//
// What a probe runs and what its result means is the manager's (Hooks); the policy is in
// health.hpp. The hooks are called on the scheduler's thread without its lock held, so they may
// take a container's lock and call watch/unwatch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"
#include "core/container/health.hpp"

namespace berth::core::container {

class HealthScheduler {
 public:
  // A probe started in a container.
  struct Launch {
    std::string exec_id;
    UniqueFd stream;  // the exec's attach stream (stdout and stderr, framed)
    UniqueFd pidfd;   // the probe process, for the kill at timeout
  };
  struct Hooks {
    // Starts the probe's exec under the given id (blocking: the backend creates the process).
    std::function<Result<Launch>(const std::string& container_id, const std::string& exec_id,
                                 const std::vector<std::string>& argv)>
        launch;
    // A probe ended; returns nanoseconds until the next one, or nullopt when the container is no
    // longer watched under this generation.
    std::function<std::optional<int64_t>(const std::string& container_id, uint64_t generation,
                                         const std::string& exec_id, ProbeResult result)>
        finished;
  };

  explicit HealthScheduler(Hooks hooks);
  ~HealthScheduler();
  HealthScheduler(const HealthScheduler&) = delete;
  HealthScheduler& operator=(const HealthScheduler&) = delete;

  // Probes the container every so often from `first_delay_ns` on, replacing any earlier watch.
  void watch(const std::string& container_id, uint64_t generation, ProbeConfig probe,
             int64_t first_delay_ns);
  // Stops probing it; a probe running now is killed and its result dropped.
  void unwatch(const std::string& container_id);
  // A probe's process exited (from the backend's task-exit); false when the exec is no probe.
  bool exec_exited(const std::string& exec_id, int exit_code);
  // Ends the thread; probes running now are left to finish on their own.
  void stop();

  size_t watched() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Watch {
    uint64_t generation = 0;
    ProbeConfig probe;
    Clock::time_point due;
    bool probing = false;
  };
  struct Running {
    bool launching = true;  // registered before the exec exists, so an early exit is not lost
    std::string container_id;
    uint64_t generation = 0;
    UniqueFd stream;
    UniqueFd pidfd;
    int64_t start = 0;  // unix nano
    Clock::time_point deadline;      // the probe's timeout
    std::optional<Clock::time_point> exited_at;
    std::optional<int> exit_code;
    bool eof = false;
    ProbeOutput output;
    int64_t timeout_ns = 0;
  };

  void loop();
  struct Due {
    std::string container_id;
    uint64_t generation;
    ProbeConfig probe;
  };
  void launch(const Due& due);
  void on_readable(int fd);
  // Kills timed-out probes and reports finished ones; returns how long the loop may sleep.
  int service(std::unique_lock<std::mutex>& lock, std::vector<Due>& due);
  // Moves a finished probe out and reports it; caller holds mutex_ (released for the hook).
  void finish(std::unique_lock<std::mutex>& lock, const std::string& exec_id, ProbeResult result);
  void wake();

  Hooks hooks_;
  mutable std::mutex mutex_;
  std::map<std::string, Watch> watches_;     // by container id
  std::map<std::string, Running> running_;   // by exec id
  UniqueFd epoll_;
  UniqueFd wake_fd_;  // an eventfd: the table changed
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::core::container
