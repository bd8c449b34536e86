// berth-monitor: one per container, started by the isolation plugin and detached from berthd
// (it forks away from its first process and runs in its own session), so a berthd crash or
// restart leaves containers, logs and exit codes untouched.
//
//   berth-monitor --task-dir <dir>     fd 3: "ok <container pid> <monitor pid>" or
//                                      "err <code> <message>" once the container's process is
//                                      created (held before execve)
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
#include "monitor/monitor.hpp"

namespace isolation = berth::plugins::isolation;

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    static const char kVersion[] = "berth-monitor 0.1.0\n";
    (void)!::write(1, kVersion, sizeof kVersion - 1);
    return 0;
  }
  if (argc != 3 || std::strcmp(argv[1], "--task-dir") != 0) {
    static const char kUsage[] = "usage: berth-monitor --task-dir <dir> (started by berthd)\n";
    (void)!::write(2, kUsage, sizeof kUsage - 1);
    return 2;
  }
  constexpr int kReportFd = 3;
  // Away from whoever started us (berthd): the first process exits at once, this one is
  // re-parented to init and lives on in its own session whatever happens to berthd.
  pid_t child = ::fork();
  if (child < 0) return 1;
  if (child > 0) ::_exit(0);
  ::setsid();
  // Nothing of berthd's survives here: no listening socket, no fd into a bundle or rootfs.
  ::syscall(SYS_close_range, kReportFd + 1U, ~0U, 0U);
  ::fcntl(kReportFd, F_SETFD, FD_CLOEXEC);
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
  auto config = isolation::load_monitor_config(argv[2]);
  if (!config) {
    report(isolation::format_error(config.error()));
    return 1;
  }
  isolation::Monitor monitor(std::move(*config));
  auto pid = monitor.create();
  if (!pid) {
    report(isolation::format_error(pid.error()));
    return 1;
  }
  report("ok " + std::to_string(*pid) + " " + std::to_string(::getpid()) + "\n");
  // Startup touched code the loop never runs again (libc start-up, config parsing, the setup
  // child's fork path); fault-around made whole 64 KiB windows of it resident. Dropping the
  // binary's file-backed pages from this process leaves the page cache (shared by every
  // monitor) alone and lets only what the loop runs come back.
  isolation::drop_file_backed_pages();
  return monitor.run();
}
