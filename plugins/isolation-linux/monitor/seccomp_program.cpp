#include "monitor/seccomp_program.hpp"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation {

sdk::Result<std::string> read_seccomp_program(int fd) {
  auto program = read_whole_fd(fd, "the compiled seccomp profile");
  if (!program) return std::move(program).error().wrap("seccomp");
  const size_t count = program->size() / sizeof(struct sock_filter);
  if (program->empty() || program->size() % sizeof(struct sock_filter) != 0 ||
      count > BPF_MAXINSNS) {
    return sdk::make_error(sdk::ErrorCode::kInternal,
                           "seccomp: the compiled profile is not a BPF program (" +
                               std::to_string(program->size()) + " bytes)");
  }
  return program;
}

sdk::Status load_seccomp_program(const std::string& program) {
  struct sock_fprog prog {};
  prog.len = static_cast<unsigned short>(program.size() / sizeof(struct sock_filter));
  // The kernel copies the program; it only reads through this pointer.
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(program.data()));
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    return sdk::errno_error("seccomp: load filter");
  }
  return {};
}

}  // namespace berth::plugins::isolation
