// The last steps of a container's (or an exec's) process, shared by both: identity, limits and
// privileges in runc's order, then the wait for start() and execve with Docker's error wording.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/oci_spec.hpp"

namespace berth::plugins::isolation {

struct ProcessSetup {
  const OciProcess* process = nullptr;
  std::string user_spec;                 // resolved in /etc/passwd when not empty
  std::vector<std::string> group_add;    // extra groups by name or number (--group-add)
  bool create_cwd = false;               // make a missing working directory (dockerd does)
  const std::string* seccomp = nullptr;  // compiled program (seccomp_program.hpp); null: none
  const std::vector<Rlimit>* rlimits = nullptr;
  std::optional<int> oom_score_adj;
  std::vector<std::string> argv;  // what is executed (/dev/init -- ... with an init)
  std::string command;            // the user's args[0], looked up in PATH at start
  int ready_fd = -1;              // "ok" or "err <code> <message>" to the setup parent
  int start_fd = -1;              // one byte from the monitor: exec now
  int exec_err_fd = -1;  // "<exit code> <message>" when execve is impossible (close-on-exec)
};

// Never returns: execs, or reports on ready_fd / exec_err_fd and exits.
[[noreturn]] void finalize_and_exec(const ProcessSetup& setup);

// Go's exec.LookPath inside the container, with Docker's messages: on success the path to
// execute, else {exit code 127 or 126, message}.
struct LookupResult {
  std::string path;
  int exit_code = 0;
  std::string error;
};
LookupResult look_path(const std::string& command, const std::vector<std::string>& env);

}  // namespace berth::plugins::isolation
