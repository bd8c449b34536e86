// berth-setup: the heavy half of the monitor, exec'd by berth-monitor in a forked child for each
// container or exec it creates (conmon runs runc the same way). Keeping spec parsing,
// namespaces, mounts, seccomp and capabilities out of the long-lived monitor binary keeps that
// one small: its resident memory is the code it runs, and this code never runs there.
//
//   berth-setup container <task_dir> <fds>
//   berth-setup exec <task_dir> <fds> <exec_id> <container_pid>
// <fds>: report,stdin,stdout,stderr,console,start,exec_err (-1 where unused), all inherited.
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/sys_util.hpp"
#include "monitor/child_util.hpp"
#include "monitor/container_setup.hpp"

namespace isolation = berth::plugins::isolation;

int main(int argc, char** argv) {
  const bool container = argc == 4 && std::strcmp(argv[1], "container") == 0;
  const bool exec = argc == 6 && std::strcmp(argv[1], "exec") == 0;
  if (!container && !exec) {
    static const char kUsage[] = "usage: berth-setup container|exec ... (run by berth-monitor)\n";
    (void)!::write(2, kUsage, sizeof kUsage - 1);
    return 2;
  }
  auto fields = isolation::split(argv[3], ',', false);
  if (fields.size() != 7) return 2;
  int fds[7];
  for (size_t i = 0; i < 7; ++i)
    fds[i] = static_cast<int>(isolation::parse_int64(fields[i]).value_or(-1));
  isolation::ProcessFds p;
  p.report = fds[0];
  p.stdin_r = fds[1];
  p.stdout_w = fds[2];
  p.stderr_w = fds[3];
  p.console = fds[4];
  p.start_r = fds[5];
  p.exec_err_w = fds[6];
  if (container) isolation::run_container_setup(argv[2], p);
  isolation::run_exec_setup(argv[2], argv[4],
                            static_cast<int>(isolation::parse_int64(argv[5]).value_or(0)), p);
}
