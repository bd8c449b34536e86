// Starting monitors. One helper process per plugin instance, `berth-monitor --launcher`, forks a
// monitor for each container on request: no exec and no C library start-up per container (on a
// paravirtualized host those cost more than the rest of a container's creation), and a monitor
// that is the launcher's child, not berthd's. The launcher goes when its socket closes (this
// object's end, or berthd dying); the monitors it started live on, re-parented to init.
//
// Request (SOCK_SEQPACKET, one message): the task directory, with four fds: the report socket
// (fd 3 of the monitor) and the memfds of MonitorInputs (fds 4, 5, 6).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "berth/sdk/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

struct MonitorProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat starttime: with the pid, identifies it for good
  int container_pid = 0;
};

// What a monitor starts with, each in a sealed memfd: its "key value" configuration, create.json
// and the compiled seccomp program (empty without one).
struct MonitorInputs {
  std::string config;
  std::string create_config;
  std::string seccomp;
};

class MonitorLauncher {
 public:
  explicit MonitorLauncher(std::string monitor_path);
  ~MonitorLauncher();  // closes the socket and reaps the launcher; monitors stay
  MonitorLauncher(const MonitorLauncher&) = delete;
  MonitorLauncher& operator=(const MonitorLauncher&) = delete;

  // Starts the monitor of the task in `task_dir` and waits for "ok <container pid> <monitor
  // pid>" (the container's process is created and held) or the monitor's error.
  sdk::Result<MonitorProcess> launch(const std::string& task_dir, const MonitorInputs& inputs,
                                     int timeout_ms);

 private:
  // Under mu_: hands the request to the launcher, (re)starting it when it is not there.
  sdk::Status send(const std::string& task_dir, const int (&fds)[4]);
  sdk::Status start_launcher();
  void stop_launcher();

  std::string monitor_path_;
  std::mutex mu_;
  UniqueFd control_;
  pid_t launcher_ = 0;
};

}  // namespace berth::plugins::isolation
