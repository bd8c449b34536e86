#include "cli/util/socket_io.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <unistd.h>

#include <cerrno>

namespace berth::cli {

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

namespace {

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int relay_socket(int sock, int in_fd, int out_fd, bool stop_at_in_eof) {
  bool in_open = true;
  char buf[64 * 1024];
  while (true) {
    pollfd fds[2] = {{sock, POLLIN, 0}, {in_fd, static_cast<short>(in_open ? POLLIN : 0), 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 1;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(sock, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0;
      if (!write_all(out_fd, buf, static_cast<size_t>(n))) return 1;  // the reader went away
    }
    if (in_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(in_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (stop_at_in_eof) return 1;
        ::shutdown(sock, SHUT_WR);
        in_open = false;
      } else if (!send_all(sock, buf, static_cast<size_t>(n))) {
        in_open = false;  // the far side stopped reading; keep delivering what it says
      }
    }
  }
}

}  // namespace berth::cli
