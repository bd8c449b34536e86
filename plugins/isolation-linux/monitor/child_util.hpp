// Hygiene for the monitor's forked setup children: what a process forked from the monitor's
// event loop must undo before it becomes (part of) a container.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation {

// Default dispositions for every signal and an empty mask (the monitor blocks SIGCHLD for its
// signalfd and ignores SIGPIPE; none of that may reach the container).
void reset_signals();

// Closes every fd >= 3 except `keep`.
void close_fds_except(std::vector<int> keep);

// The fds a container or exec process is created with. -1 where unused.
struct ProcessFds {
  int report = -1;   // setup child -> monitor: "ok <pid>" or "err <code> <message>"
  int stdin_r = -1;  // without a terminal
  int stdout_w = -1;
  int stderr_w = -1;
  int console = -1;     // with a terminal: the pty master goes to the monitor here
  int start_r = -1;     // monitor -> process: one byte = exec now
  int exec_err_w = -1;  // process -> monitor: why execve failed (close-on-exec: EOF = success)
  int create_config = -1;  // the monitor's memfd of create.json (read with pread)
  int seccomp = -1;        // the monitor's memfd of the compiled seccomp program (may be empty)

  [[nodiscard]] std::vector<int> all() const {
    return {report, stdin_r,    stdout_w,      stderr_w,
            console, start_r, exec_err_w, create_config, seccomp};
  }
};

// madvise(MADV_DONTNEED) over this process's read-only file-backed mappings (its own text and
// read-only data): they are re-read from the page cache on demand.
void drop_file_backed_pages();

// Writes "<line>\n" to `fd` and exits with `code`; for setup children.
[[noreturn]] void report_and_exit(int fd, const std::string& line, int code);

}  // namespace berth::plugins::isolation
