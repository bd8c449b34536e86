// berth ui: the graphical client, a dashboard served on loopback (cli/ui/).
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/app/errors.hpp"
#include "cli/client/address.hpp"
#include "cli/commands/registry.hpp"
#include "cli/ui/ui_server.hpp"

namespace berth::cli {

namespace {

// A browser is opened only where one can be shown; xdg-open picks the user's.
void open_browser(const std::string& url) {
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) return;
  if (::access("/usr/bin/xdg-open", X_OK) != 0) return;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/usr/bin/xdg-open", "xdg-open", url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

}  // namespace

void register_ui_commands(Command& root) {
  struct Options {
    long long port = 0;
    std::string listen = "127.0.0.1";
    bool no_browser = false;
    std::string tls_cert, tls_key;
  };
  auto o = std::make_shared<Options>();
  auto cmd = make_command("ui", "[OPTIONS]", "Open the dashboard: containers, images, volumes and networks in a browser");
  cmd->exact_args(0);
  cmd->flags.add_int("port", 'p', &o->port, "Port to serve on (0: a free one)", "int");
  cmd->flags.add_string("listen", 0, &o->listen,
                        "Address to serve on (beyond loopback only with --tls-cert and --tls-key)", "string");
  cmd->flags.add_string("tls-cert", 0, &o->tls_cert, "Serve HTTPS with this certificate (PEM chain)", "string");
  cmd->flags.add_string("tls-key", 0, &o->tls_key, "The certificate's private key (PEM)", "string");
  cmd->flags.add_bool("no-browser", 0, &o->no_browser, "Print the URL without opening a browser");
  cmd->run = [o](Context& ctx, const Args&) {
    // The dashboard can do anything the daemon can: beyond loopback, its token and cookie must
    // never cross the network in clear text.
    if (o->tls_cert.empty() != o->tls_key.empty())
      throw StatusError("berth ui: --tls-cert and --tls-key go together", 1);
    if (!is_loopback_ip(o->listen) && o->tls_cert.empty())
      throw StatusError("berth ui: --listen " + o->listen +
                            " is not a loopback address: serving there needs TLS (--tls-cert and "
                            "--tls-key), or reach a loopback dashboard through an ssh tunnel",
                        1);
    if (o->port < 0 || o->port > 65535) throw StatusError("berth ui: --port must be 0 to 65535", 1);
    ctx.api().api_version();  // an unreachable daemon is said now, not on the page
    ui::Server server(ctx.endpoint(), {o->listen, static_cast<int>(o->port), "", o->tls_cert, o->tls_key});
    try {
      server.bind();
    } catch (const std::exception& e) {
      throw StatusError(std::string("berth ui: ") + e.what(), 1);
    }
    std::cout << "Berth dashboard for " << ctx.host() << ":\n  " << server.url()
              << "\nThe URL carries the access token: keep it to yourself. Ctrl-C stops the server."
              << std::endl;
    if (!o->no_browser) open_browser(server.url());
    server.serve();
    return 0;
  };
  root.add(std::move(cmd));
}

}  // namespace berth::cli
