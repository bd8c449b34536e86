#include "core/api/transport.hpp"

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <thread>

namespace berth::core::api {

namespace {

void set_receive_timeout(int fd, std::chrono::microseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

void Transport::clear_read_deadline() {
  deadline_.reset();
  if (timeout_armed_) {
    set_receive_timeout(fd(), std::chrono::microseconds(0));
    timeout_armed_ = false;
  }
}

Status Transport::arm_read_deadline() {
  if (!deadline_) return {};
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      *deadline_ - std::chrono::steady_clock::now());
  if (left.count() <= 0) return read_timed_out();
  set_receive_timeout(fd(), left);
  timeout_armed_ = true;
  return {};
}

Error Transport::read_timed_out() {
  return make_error(ErrorCode::kDeadlineExceeded, "client sent nothing in time");
}

bool Transport::wait_readable(std::chrono::milliseconds timeout) {
  if (pending() > 0) return true;
  pollfd p{fd(), POLLIN | POLLRDHUP, 0};
  for (;;) {
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r >= 0) return r > 0;
    if (errno != EINTR) return true;  // let the read report the error
  }
}

void Transport::wait_peer_took(std::chrono::milliseconds timeout) {
  // On a unix stream socket SIOCOUTQ counts the bytes the peer has not read yet. (On TCP it
  // counts unacknowledged bytes, which says nothing of the reader and may wait out a delayed
  // ACK: TCP is left alone.) Polled with a growing pause: a reading client takes well under a
  // millisecond.
  int domain = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(fd(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX) return;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    int queued = 0;
    if (::ioctl(fd(), SIOCOUTQ, &queued) != 0 || queued <= 0) return;
    if (std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

Result<size_t> FdTransport::read_some(char* buffer, size_t capacity) {
  BERTH_TRY_STATUS(arm_read_deadline());
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer, capacity, 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return size_t{0};
    if (errno == EAGAIN || errno == EWOULDBLOCK) return read_timed_out();
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
