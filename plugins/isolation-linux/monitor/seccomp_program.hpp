// Loading the seccomp program the plugin compiled (plugin/seccomp_compiler.hpp) into the
// container's or exec's process. Read before the process is forked, loaded late: before capabilities are dropped, or with noNewPrivileges as the very
// last step before execve (runc's order).
#pragma once

#include <string>

#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation {

// The program in the monitor's memfd `fd`, checked to be a whole number of BPF instructions.
sdk::Result<std::string> read_seccomp_program(int fd);

// seccomp(SECCOMP_SET_MODE_FILTER) with the program as it is.
sdk::Status load_seccomp_program(const std::string& program);

}  // namespace berth::plugins::isolation
