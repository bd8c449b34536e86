// Writing to a socket in full, for the CLI's stream relays (hijacked attach/exec, the TLS relay).
#pragma once

#include <cstddef>

namespace berth::cli {

// Sends all of data (MSG_NOSIGNAL: a gone peer is false, not SIGPIPE), waiting out EINTR and,
// on a non-blocking socket, EAGAIN. False when the peer is gone or the socket broke.
bool send_all(int fd, const char* data, size_t size);

// Relays a socket both ways with half-closes: what arrives on `sock` goes to `out_fd`, what
// arrives on `in_fd` goes to `sock`; EOF on in_fd becomes shutdown(SHUT_WR) toward sock while its
// output keeps flowing. Returns once sock's peer has closed (0), or 1 when out_fd is gone or a
// socket broke. SIGPIPE must be ignored (berth's main does) when out_fd is a pipe.
// With stop_at_in_eof, EOF on in_fd ends the relay at once instead (a browser that hung up on a
// stream it will never read again).
int relay_socket(int sock, int in_fd, int out_fd, bool stop_at_in_eof = false);

}  // namespace berth::cli
