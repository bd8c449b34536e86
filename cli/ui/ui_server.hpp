// `berth ui`'s web server: serves the dashboard's embedded page and assets, relays the page's
// daemon calls (/api/...) to berthd over the connection the CLI itself would use (unix socket,
// TLS, ssh or a context), and bridges the terminal's websocket to an exec session. One thread
// per browser connection; each relayed call is one daemon connection, so streams (logs, stats,
// events, pull progress) pass through as they are written.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cli/client/api_client.hpp"
#include "cli/client/dialer.hpp"
#include "cli/client/endpoint.hpp"

namespace berth::cli::ui {

struct ServerOptions {
  std::string listen_host = "127.0.0.1";
  int port = 0;  // 0: a free port
  std::string token;
  std::string tls_cert, tls_key;  // both set: serve HTTPS
};

class TlsServerContext;

class Server {
 public:
  Server(Endpoint daemon, ServerOptions options);
  ~Server();
  // Binds and listens (throws std::runtime_error saying why it could not).
  void bind();
  int port() const { return port_; }
  // The URL to open: it carries the access token.
  std::string url() const;
  // Accepts until stop(); returns then.
  void serve();
  void stop();

 private:
  void handle(int fd);

  Endpoint endpoint_;
  ServerOptions options_;
  Dialer dialer_;
  ApiClient api_;
  std::unique_ptr<TlsServerContext> tls_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
};

}  // namespace berth::cli::ui
