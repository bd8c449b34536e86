#include "plugin/monitor_client.hpp"

#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "common/protocol.hpp"
#include "common/sys_util.hpp"

namespace berth::plugins::isolation {

namespace {

sdk::Result<UniqueFd> connect_monitor(const std::string& task_dir) {
  auto fd = unix_connect(task_dir + "/" + std::string(kSocketName));
  if (!fd) {
    return sdk::make_error(sdk::ErrorCode::kUnavailable, "monitor is not running");
  }
  return fd;
}

}  // namespace

sdk::Result<std::string> monitor_request(const std::string& task_dir, const std::string& line,
                                         int timeout_ms) {
  auto stream = monitor_stream(task_dir, line, timeout_ms);
  if (!stream) return std::move(stream).error();
  return std::move(stream->data);
}

sdk::Result<MonitorStream> monitor_stream(const std::string& task_dir, const std::string& line,
                                          int timeout_ms) {
  auto fd = connect_monitor(task_dir);
  if (!fd) return std::move(fd).error();
  const std::string request = line + "\n";
  if (::send(fd->get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return sdk::make_error(sdk::ErrorCode::kUnavailable, "monitor is not running");
  }
  auto reply = read_line(fd->get(), timeout_ms);
  if (!reply) {
    if (reply.error().code == sdk::ErrorCode::kUnavailable) {
      return sdk::make_error(sdk::ErrorCode::kUnavailable, "monitor is not running");
    }
    return std::move(reply).error().wrap("monitor");
  }
  auto data = parse_reply(*reply);
  if (!data) return std::move(data).error();
  return MonitorStream{std::move(*fd), std::move(*data)};
}

bool monitor_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto now = process_start_time(pid);
  if (!now) return false;
  if (start_time != 0 && *now != start_time) return false;
  // A zombie is as good as gone.
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat) {
    size_t close = stat->rfind(')');
    if (close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z') {
      return false;
    }
  }
  return true;
}

bool wait_monitor_exit(pid_t pid, uint64_t start_time, int timeout_ms, bool force) {
  // A pidfd would be neater, but the monitor is not our child and may have been started by a
  // previous berthd: poll its identity instead.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (monitor_alive(pid, start_time)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      if (!force) return false;
      ::kill(pid, SIGKILL);
      force = false;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace berth::plugins::isolation
