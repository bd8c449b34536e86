// The plugin's side of a running monitor: talking to it over its socket (the protocol is
// described in common/protocol.hpp). Starting one is plugin/monitor_launcher.hpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "berth/sdk/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

// One request, one answer line: the "ok" data or the monitor's error. kUnavailable when the
// monitor is gone (its socket is removed once the container exited).
sdk::Result<std::string> monitor_request(const std::string& task_dir, const std::string& line,
                                         int timeout_ms);

// A request that turns the connection into a stream (attach, subscribe): the connected socket,
// positioned right after the "ok" line, and that line's data.
struct MonitorStream {
  UniqueFd fd;
  std::string data;
};
sdk::Result<MonitorStream> monitor_stream(const std::string& task_dir, const std::string& line,
                                          int timeout_ms);

// Whether the monitor recorded for a task is still that very process.
bool monitor_alive(pid_t pid, uint64_t start_time);
// Waits up to `timeout_ms` for it to exit; SIGKILLs it when `force` and it did not.
bool wait_monitor_exit(pid_t pid, uint64_t start_time, int timeout_ms, bool force);

}  // namespace berth::plugins::isolation
