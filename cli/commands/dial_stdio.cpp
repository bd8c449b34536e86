// `berth system dial-stdio`: the remote half of ssh:// addresses. Connects to the daemon this
// berth would talk to (usually the local socket) and copies stdin to it and its answers to
// stdout, so `ssh host berth system dial-stdio` is a byte pipe to the daemon.
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "cli/app/errors.hpp"
#include "cli/client/dialer.hpp"
#include "cli/client/tls_relay.hpp"
#include "cli/commands/registry.hpp"

namespace berth::cli {

namespace {

bool write_all(int fd, const char* data, size_t size, bool socket) {
  while (size > 0) {
    ssize_t n = socket ? ::send(fd, data, size, MSG_NOSIGNAL) : ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Copies both ways with half-closes: stdin EOF becomes shutdown(SHUT_WR) toward the daemon
// (attach sees stdin closed) while its output keeps flowing; once the daemon has closed its
// side we return at once, like docker, without waiting for stdin (ssh then closes the channel).
int pump(int sock) {
  bool stdin_open = true;
  char buf[64 * 1024];
  while (true) {
    pollfd fds[2] = {{sock, POLLIN, 0}, {0, static_cast<short>(stdin_open ? POLLIN : 0), 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 1;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(sock, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(1);
        return 0;
      }
      if (!write_all(1, buf, static_cast<size_t>(n), false)) return 1;  // ssh went away
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::shutdown(sock, SHUT_WR);
        stdin_open = false;
      } else if (!write_all(sock, buf, static_cast<size_t>(n), true)) {
        stdin_open = false;  // the daemon stopped reading; keep delivering what it says
      }
    }
  }
}

}  // namespace

std::unique_ptr<Command> make_dial_stdio() {
  auto cmd = make_command("dial-stdio", "",
                          "Proxy the stdio stream to the daemon connection. Should not be invoked "
                          "manually.");
  cmd->short_help.clear();  // hidden from `berth system --help`, as in docker
  cmd->exact_args(0);
  cmd->run = [](Context& ctx, const Args&) {
    const Endpoint& ep = ctx.endpoint();
    if (ep.address.kind == Address::Kind::kSsh)
      throw StatusError("dial-stdio: refusing to chain ssh (" + ep.address.original +
                            "); give the daemon's local socket with -H unix://PATH",
                        1);
    Dialer dialer(ep);
    std::unique_ptr<Connection> conn;
    try {
      conn = dialer.dial();
    } catch (const ConnectError& e) {
      throw StatusError(e.self_explanatory()
                            ? e.what()
                            : "cannot reach berthd at " + ep.address.original + ": " + e.what(),
                        1);
    }
    if (conn->is_tls()) conn = relay_hijacked_tls(std::move(conn));
    int rc = pump(conn->native_handle());
    conn->close();
    return rc;
  };
  return cmd;
}

}  // namespace berth::cli
