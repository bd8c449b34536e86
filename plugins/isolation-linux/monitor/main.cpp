// berth-monitor: one per container, forked by the plugin's launcher (`berth-monitor --launcher`,
// monitor/launcher.hpp), never berthd's child and in its own session, so a berthd crash or
// restart leaves containers, logs and exit codes untouched. Each monitor starts with
//   fd 3: the report socket: "ok <container pid> <monitor pid>" or "err <code> <message>" once
//         the container's process is created (held before execve)
//   fd 4: its configuration ("key value" lines)
//   fd 5: create.json, fd 6: the compiled seccomp program (empty without one); memfds it keeps
//         for the setup of every exec
//
// The setup of the container and of each exec (spec parsing, namespaces, mounts, seccomp) runs
// in a child forked from the monitor without an exec (monitor/container_setup.hpp).
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/protocol.hpp"
#include "common/sys_util.hpp"
#include "monitor/child_util.hpp"
#include "monitor/launcher.hpp"
#include "monitor/monitor.hpp"

namespace isolation = berth::plugins::isolation;

namespace {

constexpr int kReportFd = 3, kConfigFd = 4, kCreateConfigFd = 5, kSeccompFd = 6;

int monitor_main(const std::string& task_dir) {
  // Nothing of berthd's or the launcher's survives here: only the request's fds.
  ::syscall(SYS_close_range, kSeccompFd + 1U, ~0U, 0U);
  for (int fd = kReportFd; fd <= kSeccompFd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3 && null >= 0; ++fd) ::dup2(null, fd);
  if (null > 2) ::close(null);
  isolation::reset_signals();
  if (::chdir("/") != 0) return 1;
  ::umask(022);
  // Orphans of the container (its init once the setup child exits, daemonized processes) are
  // re-parented here, so this process reaps and records them.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  ::prctl(PR_SET_NAME, "berth-monitor", 0, 0, 0);

  auto report = [&](const std::string& line) {
    (void)isolation::write_all(kReportFd, line.data(), line.size());
    ::close(kReportFd);
  };
  auto config = isolation::load_monitor_config(task_dir, kConfigFd);
  ::close(kConfigFd);
  if (!config) {
    report(isolation::format_error(config.error()));
    return 1;
  }
  config->create_config_fd = kCreateConfigFd;
  config->seccomp_fd = kSeccompFd;
  isolation::Monitor monitor(std::move(*config));
  auto pid = monitor.create();
  if (!pid) {
    report(isolation::format_error(pid.error()));
    return 1;
  }
  report("ok " + std::to_string(*pid) + " " + std::to_string(::getpid()) + "\n");
  // Startup touched code the loop never runs again (config parsing, the setup child's fork
  // path); fault-around made whole 64 KiB windows of it resident. Dropping the binary's
  // file-backed pages from this process leaves the page cache (shared by every monitor) alone
  // and lets only what the loop runs come back.
  isolation::drop_file_backed_pages();
  return monitor.run();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    static const char kVersion[] = "berth-monitor 0.1.0\n";
    (void)!::write(1, kVersion, sizeof kVersion - 1);
    return 0;
  }
  if (argc != 2 || std::strcmp(argv[1], "--launcher") != 0) {
    static const char kUsage[] =
        "usage: berth-monitor --launcher (started by berthd's isolation.linux plugin)\n";
    (void)!::write(2, kUsage, sizeof kUsage - 1);
    return 2;
  }
  return isolation::run_launcher(kReportFd, monitor_main);
}
