// Loading the seccomp program the plugin compiled (plugin/seccomp_compiler.hpp) into the
// container's or exec's process. Read before pivot_root (the task directory is not visible
// after it), loaded late: before capabilities are dropped, or with noNewPrivileges as the very
// last step before execve (runc's order).
#pragma once

#include <string>

#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation {

// <task_dir>/seccomp.bpf, checked to be a whole number of BPF instructions.
sdk::Result<std::string> read_seccomp_program(const std::string& task_dir);

// seccomp(SECCOMP_SET_MODE_FILTER) with the program as it is.
sdk::Status load_seccomp_program(const std::string& program);

}  // namespace berth::plugins::isolation
