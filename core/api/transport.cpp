#include "core/api/transport.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace berth::core::api {

Result<size_t> FdTransport::read_some(char* buffer, size_t capacity) {
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer, capacity, 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return size_t{0};
    return errno_error("read from client");
  }
}

Status FdTransport::write_all(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("write to client");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

void FdTransport::shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }
void FdTransport::shutdown_both() { ::shutdown(fd_.get(), SHUT_RDWR); }

bool FdTransport::peer_closed() {
  pollfd p{fd_.get(), POLLRDHUP, 0};
  int r = ::poll(&p, 1, 0);
  if (r <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace berth::core::api

namespace berth::core::api {

bool FdTransport::peer_hung_up() {
  pollfd p{fd_.get(), 0, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace berth::core::api
