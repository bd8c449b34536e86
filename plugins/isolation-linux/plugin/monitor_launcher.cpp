#include "plugin/monitor_launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/protocol.hpp"
#include "common/sys_util.hpp"

namespace berth::plugins::isolation {
namespace {

// A read-only copy of `data` the monitor inherits: sealed, so nothing can change it afterwards.
sdk::Result<UniqueFd> sealed_memfd(const char* name, std::string_view data) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return sdk::errno_error(std::string("memfd_create ") + name);
  if (auto s = write_all(fd.get(), data.data(), data.size()); !s) return std::move(s).error();
  ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

bool launcher_gone(int err) { return err == EPIPE || err == ECONNRESET || err == ENOTCONN; }

}  // namespace

MonitorLauncher::MonitorLauncher(std::string monitor_path)
    : monitor_path_(std::move(monitor_path)) {}

MonitorLauncher::~MonitorLauncher() {
  std::lock_guard lock(mu_);
  stop_launcher();
}

sdk::Status MonitorLauncher::start_launcher() {
  static const char kPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::string arg0 = monitor_path_, flag = "--launcher";
  char* argv[] = {arg0.data(), flag.data(), nullptr};
  char* envp[] = {const_cast<char*>(kPath), nullptr};
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return sdk::errno_error("socketpair");
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  // posix_spawn (a vfork underneath) is the safe way to start a process from multi-threaded
  // berthd. Its own session keeps berthd's signals and terminal away from it and its monitors.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);
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
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sdk::errno_error("start the monitor launcher " + monitor_path_, rc);
  control_ = std::move(ours);
  launcher_ = pid;
  return {};
}

void MonitorLauncher::stop_launcher() {
  control_.reset();  // EOF: the launcher exits at once
  if (launcher_ > 0) {
    while (::waitpid(launcher_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  launcher_ = 0;
}

sdk::Status MonitorLauncher::send(const std::string& task_dir, const int (&fds)[4]) {
  for (int attempt = 0;; ++attempt) {
    if (!control_) BERTH_TRY_STATUS(start_launcher());
    const int err = send_with_fds(control_.get(), task_dir, fds, 4);
    if (err == 0) return {};
    // A launcher that died (killed, or out of memory) is replaced once.
    stop_launcher();
    if (!launcher_gone(err) || attempt > 0) {
      return sdk::errno_error("hand the task to the monitor launcher", err);
    }
  }
}

sdk::Result<MonitorProcess> MonitorLauncher::launch(const std::string& task_dir,
                                                    const MonitorInputs& inputs,
                                                    int timeout_ms) {
  // A socket pair rather than a pipe: read_line takes a socket's line in one read.
  int report[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, report) != 0) {
    return sdk::errno_error("socketpair");
  }
  UniqueFd report_r(report[0]), report_w(report[1]);
  auto config = sealed_memfd("berth-monitor-config", inputs.config);
  if (!config) return std::move(config).error();
  auto create_config = sealed_memfd("berth-create-config", inputs.create_config);
  if (!create_config) return std::move(create_config).error();
  auto seccomp = sealed_memfd("berth-seccomp", inputs.seccomp);
  if (!seccomp) return std::move(seccomp).error();
  {
    const int fds[4] = {report_w.get(), config->get(), create_config->get(), seccomp->get()};
    std::lock_guard lock(mu_);
    BERTH_TRY_STATUS(send(task_dir, fds));
  }
  // Only the monitor holds the write end now: EOF means it died without a word.
  report_w.reset();

  auto line = read_line(report_r.get(), timeout_ms);
  if (!line) {
    if (line.error().code == sdk::ErrorCode::kUnavailable) {
      return sdk::make_error(sdk::ErrorCode::kInternal, "monitor " + monitor_path_ +
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

}  // namespace berth::plugins::isolation
