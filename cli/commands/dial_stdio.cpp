// `berth system dial-stdio`: the remote half of ssh:// addresses. Connects to the daemon this
// berth would talk to (usually the local socket) and copies stdin to it and its answers to
// stdout, so `ssh host berth system dial-stdio` is a byte pipe to the daemon.
#include <unistd.h>

#include <memory>

#include "cli/app/errors.hpp"
#include "cli/client/dialer.hpp"
#include "cli/client/tls_relay.hpp"
#include "cli/commands/registry.hpp"
#include "cli/util/socket_io.hpp"

namespace berth::cli {

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
    // Once the daemon has closed its side we return at once, like docker, without waiting for
    // stdin (ssh then closes the channel).
    int rc = relay_socket(conn->native_handle(), 0, 1);
    ::close(1);
    conn->close();
    return rc;
  };
  return cmd;
}

}  // namespace berth::cli
