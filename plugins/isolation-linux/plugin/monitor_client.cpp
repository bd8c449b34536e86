#include "plugin/monitor_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "common/protocol.hpp"
#include "common/sys_util.hpp"

namespace berth::plugins::isolation {

sdk::Result<MonitorProcess> spawn_monitor(const std::string& monitor_path,
                                          const std::string& task_dir, int timeout_ms) {
  static const char kPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::string arg0 = monitor_path, flag = "--task-dir", dir = task_dir;
  char* argv[] = {arg0.data(), flag.data(), dir.data(), nullptr};
  char* envp[] = {const_cast<char*>(kPath), nullptr};

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return sdk::errno_error("pipe");
  UniqueFd report_r(report[0]), report_w(report[1]);

  // posix_spawn (a vfork underneath) is the safe way to start a process from multi-threaded
  // berthd. The monitor forks once more itself and this first process exits at once, so the
  // monitor is not berthd's child: a SIGKILLed berthd leaves it running and nobody has to reap
  // it. Its own session keeps berthd's signals and terminal away from it.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, report_w.get(), 3);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(&actions, 0, 1);
  posix_spawn_file_actions_adddup2(&actions, 0, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t first = 0;
  int rc = ::posix_spawn(&first, argv[0], &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sdk::errno_error("start monitor " + monitor_path, rc);
  report_w.reset();
  int status = 0;
  while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
  }

  auto line = read_line(report_r.get(), timeout_ms);
  if (!line) {
    if (line.error().code == sdk::ErrorCode::kUnavailable) {
      return sdk::make_error(sdk::ErrorCode::kInternal, "monitor " + monitor_path +
                                                            " exited without a word (is it the "
                                                            "berth-monitor binary?)");
    }
    return std::move(line).error().wrap("wait for monitor");
  }
  auto data = parse_reply(*line);
  if (!data) return std::move(data).error();
  auto words = split(*data, ' ');
  auto pid = words.size() == 2 ? parse_int64(words[0]) : std::nullopt;
  auto monitor = words.size() == 2 ? parse_int64(words[1]) : std::nullopt;
  if (!pid || !monitor) {
    return sdk::make_error(sdk::ErrorCode::kInternal, "monitor: bad answer: " + *line);
  }
  MonitorProcess out;
  out.pid = static_cast<pid_t>(*monitor);
  out.start_time = process_start_time(out.pid).value_or(0);
  out.container_pid = static_cast<int>(*pid);
  return out;
}

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
