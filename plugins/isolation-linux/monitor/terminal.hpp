// The container's terminal, created the way runc's console socket does it: from inside the
// container, on its own devpts instance (so /dev/pts/0 exists there), with the master sent to the
// monitor over a unix socket and the slave becoming the process's controlling terminal and stdio.
#pragma once

#include "berth/sdk/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

// Opens /dev/pts/ptmx (the caller's root must be the container's), sends the master through
// `console_socket`, makes the slave the controlling terminal (the caller must be a session
// leader) and stdin/stdout/stderr.
sdk::Status setup_terminal(int console_socket);

// Makes `in`, `out`, `err` fds 0, 1 and 2.
sdk::Status setup_stdio(int in, int out, int err);

}  // namespace berth::plugins::isolation
