#include "cli/client/tls_relay.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "cli/util/socket_io.hpp"

namespace berth::cli {

void relay_tls_session(SSL* ssl, int net, int local, int stop) {
  ::fcntl(net, F_SETFL, ::fcntl(net, F_GETFL) | O_NONBLOCK);
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  std::string to_remote;  // read from local, not yet accepted by SSL_write
  bool remote_eof = false, local_eof = false, sent_close = false;
  bool read_wants_write = false, write_wants_read = false, write_wants_write = false;
  char buf[32 * 1024];
  while (true) {
    // Daemon -> local: everything OpenSSL can decrypt now.
    read_wants_write = false;
    while (!remote_eof) {
      ERR_clear_error();
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n > 0) {
        if (!send_all(local, buf, static_cast<size_t>(n))) return;  // the pump is gone
        continue;
      }
      int err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_READ) break;
      if (err == SSL_ERROR_WANT_WRITE) {
        read_wants_write = true;
        break;
      }
      // close_notify, a bare TCP FIN, or a broken session: the output side is over.
      remote_eof = true;
      ::shutdown(local, SHUT_WR);
    }
    // Local -> remote.
    write_wants_read = write_wants_write = false;
    while (!to_remote.empty()) {
      ERR_clear_error();
      int n = SSL_write(ssl, to_remote.data(), static_cast<int>(to_remote.size()));
      if (n > 0) {
        to_remote.erase(0, static_cast<size_t>(n));
        continue;
      }
      int err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_WRITE) {
        write_wants_write = true;
      } else if (err == SSL_ERROR_WANT_READ) {
        write_wants_read = true;
      } else {
        to_remote.clear();  // the daemon stopped reading: drop input, keep reading output
        local_eof = true;
      }
      break;
    }
    if (local_eof && to_remote.empty() && !sent_close) {
      SSL_shutdown(ssl);  // close_notify: the daemon's read sees EOF (stdin closed)
      ::shutdown(net, SHUT_WR);
      sent_close = true;
    }
    if (remote_eof && local_eof) return;

    pollfd fds[3] = {{stop, POLLIN, 0}, {net, 0, 0}, {local, 0, 0}};
    if (!remote_eof || write_wants_read) fds[1].events |= POLLIN;
    if (read_wants_write || write_wants_write) fds[1].events |= POLLOUT;
    if (!local_eof && to_remote.empty()) fds[2].events |= POLLIN;
    int r = ::poll(fds, 3, -1);  // a negative `stop` is ignored by poll
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (fds[0].revents & (POLLIN | POLLHUP))) return;
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(local, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0)
        to_remote.assign(buf, static_cast<size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        local_eof = true;
    }
  }
}

namespace {

class TlsRelay : public ConnectionCompanion {
 public:
  TlsRelay(std::unique_ptr<Connection> remote, int local) {
    if (::pipe2(stop_, O_CLOEXEC) != 0)
      throw ConnectError(std::string("pipe: ") + std::strerror(errno));
    thread_ = std::thread([this, remote = std::move(remote), local]() mutable {
      relay_tls_session(remote->tls()->ssl(), remote->native_handle(), local, stop_[0]);
      remote->close();
    });
  }
  ~TlsRelay() override { closed(); }

  void closed() override {
    if (!thread_.joinable()) return;
    char c = 1;
    (void)!::write(stop_[1], &c, 1);
    thread_.join();
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

 private:
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Connection> relay_hijacked_tls(std::unique_ptr<Connection> tls_connection) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    throw ConnectError(std::string("socketpair: ") + std::strerror(errno));
  // The relay keeps pair[1] for the thread's whole life; the connection (pair[0]) closes first,
  // then joins the thread, then pair[1] goes.
  auto relay = std::make_unique<TlsRelay>(std::move(tls_connection), pair[1]);
  struct Owner : ConnectionCompanion {
    Owner(std::unique_ptr<TlsRelay> r, int fd) : relay(std::move(r)), fd(fd) {}
    void closed() override {
      relay->closed();
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
    ~Owner() override { closed(); }
    std::unique_ptr<TlsRelay> relay;
    int fd;
  };
  auto ioc = std::make_unique<boost::asio::io_context>();
  Connection::Unix sock(*ioc);
  sock.assign(boost::asio::local::stream_protocol(), pair[0]);
  return Connection::from_unix(std::move(ioc), std::move(sock),
                               std::make_unique<Owner>(std::move(relay), pair[1]));
}

}  // namespace berth::cli
