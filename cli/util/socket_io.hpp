// Writing to a socket in full, for the CLI's stream relays (hijacked attach/exec, the TLS relay).
#pragma once

#include <cstddef>

namespace berth::cli {

// Sends all of data (MSG_NOSIGNAL: a gone peer is false, not SIGPIPE), waiting out EINTR and,
// on a non-blocking socket, EAGAIN. False when the peer is gone or the socket broke.
bool send_all(int fd, const char* data, size_t size);

}  // namespace berth::cli
