#include "cli/ui/ui_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <thread>

#include "cli/client/connect_error.hpp"
#include "cli/client/tls_relay.hpp"
#include "cli/ui/assets.hpp"
#include "cli/ui/http_io.hpp"
#include "cli/ui/terminal_bridge.hpp"
#include "cli/ui/tls_server.hpp"
#include "cli/ui/ui_auth.hpp"
#include "cli/ui/websocket.hpp"
#include "cli/util/socket_io.hpp"

namespace berth::cli::ui {

namespace {

constexpr const char* kCookie = "berth_ui_token";

// The page may talk only to this server; nothing from elsewhere runs or loads.
std::map<std::string, std::string> page_headers() {
  return {{"Content-Security-Policy",
           "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
           "base-uri 'none'; form-action 'none'"},
          {"X-Frame-Options", "DENY"},
          {"Referrer-Policy", "no-referrer"},
          {"Cache-Control", "no-store"}};
}

// Headers a page's call may pass on to the daemon; everything else (cookies, the token) stays.
const char* const kForwardedHeaders[] = {"content-type", "x-registry-auth", "x-registry-config"};

std::string host_of_url(const std::string& listen_host, int port) {
  bool v6 = listen_host.find(':') != std::string::npos;
  return (v6 ? "[" + listen_host + "]" : listen_host) + ":" + std::to_string(port);
}

}  // namespace

Server::Server(Endpoint daemon, ServerOptions options)
    : endpoint_(daemon), options_(std::move(options)), dialer_(daemon), api_(daemon) {
  if (options_.token.empty()) options_.token = new_token();
}

Server::~Server() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void Server::bind() {
  if (!options_.tls_cert.empty()) tls_ = std::make_unique<TlsServerContext>(options_.tls_cert, options_.tls_key);
  const std::string& host = options_.listen_host;
  bool v6 = host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage addr{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(options_.port));
    if (::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1)
      throw std::runtime_error("--listen " + host + ": not an IP address");
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(options_.port));
    if (::inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1)
      throw std::runtime_error("--listen " + host + ": not an IP address");
    len = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("listen on " + host_of_url(host, options_.port) + ": " + std::strerror(err) +
                             (err == EADDRINUSE ? " (choose another --port, or 0 for a free one)" : ""));
  }
  ::listen(fd, 64);
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                   : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listen_fd_ = fd;
}

std::string Server::url() const {
  return (tls_ ? "https://" : "http://") + host_of_url(options_.listen_host, port_) + "/?token=" + options_.token;
}

void Server::serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 200);  // wakes to notice stop()
    if (r <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::thread([this, fd] {
      try {
        if (tls_) {
          // The session owns fd; nullptr when the handshake failed (and fd is closed).
          if (auto session = TlsSession::accept(*tls_, fd)) handle(session->plain_fd());
          return;
        }
        handle(fd);
      } catch (const std::exception&) {
        // one browser connection failed; the server goes on
      }
      if (!tls_) ::close(fd);
    }).detach();
  }
}

void Server::stop() { stopping_ = true; }

void Server::handle(int fd) {
  std::optional<RequestHead> head;
  try {
    head = read_request_head(fd);
  } catch (const std::exception& e) {
    write_response(fd, 400, "text/plain; charset=utf-8", std::string(e.what()) + "\n");
    return;
  }
  if (!head) return;

  RequestFacts facts{head->method,
                     head->path,
                     query_param(head->query, "token"),
                     cookie_value(head->header("cookie"), kCookie),
                     head->header("x-berth-token"),
                     head->header("host"),
                     head->header("origin")};
  Decision d = authorize(facts, options_.token, port_, options_.listen_host);
  if (!d.allowed) {
    write_response(fd, d.status, "text/plain; charset=utf-8", d.reason + "\n");
    return;
  }

  switch (area_of(head->path)) {
    case Area::kPage: {
      if (!facts.query_token.empty()) {
        // Trade the URL's token for a cookie and drop it from the address bar (and history).
        auto headers = page_headers();
        headers["Location"] = "/";
        headers["Set-Cookie"] =
            std::string(kCookie) + "=" + options_.token + "; Path=/; HttpOnly; SameSite=Strict" +
            (tls_ ? "; Secure" : "");
        write_response(fd, 303, "text/plain; charset=utf-8", "see /\n", headers);
        return;
      }
      const Asset* page = find_asset("index.html");
      std::string html(page->body);
      // The page's script reads the token from here to sign its daemon calls.
      const std::string marker = "{{BERTH_UI_TOKEN}}";
      if (auto at = html.find(marker); at != std::string::npos) html.replace(at, marker.size(), options_.token);
      write_response(fd, 200, std::string(page->content_type), head->method == "HEAD" ? "" : html,
                     page_headers());
      return;
    }
    case Area::kAsset: {
      const Asset* asset = find_asset(head->path.substr(std::strlen("/assets/")));
      if (!asset || asset->name == "index.html") {
        write_response(fd, 404, "text/plain; charset=utf-8", "no such asset\n");
        return;
      }
      write_response(fd, 200, std::string(asset->content_type),
                     head->method == "HEAD" ? "" : std::string(asset->body), {{"Cache-Control", "no-cache"}});
      return;
    }
    case Area::kWebsocket: {
      if (head->path.rfind("/ws/exec/", 0) != 0 || head->header("sec-websocket-key").empty()) {
        write_response(fd, 400, "text/plain; charset=utf-8", "expected a websocket upgrade of /ws/exec/ID\n");
        return;
      }
      TerminalRequest req;
      req.container = head->path.substr(std::strlen("/ws/exec/"));
      if (auto cmd = query_param(head->query, "cmd"); !cmd.empty()) req.command = cmd;
      try {
        if (auto c = query_param(head->query, "cols"); !c.empty()) req.cols = std::stoi(c);
        if (auto r = query_param(head->query, "rows"); !r.empty()) req.rows = std::stoi(r);
      } catch (const std::exception&) {
        write_response(fd, 400, "text/plain; charset=utf-8", "cols and rows are numbers\n");
        return;
      }
      std::string upgrade = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: " +
                            ws::accept_key(head->header("sec-websocket-key")) + "\r\n\r\n";
      if (!send_all(fd, upgrade.data(), upgrade.size())) return;
      run_terminal(fd, head->leftover, api_, req);
      return;
    }
    case Area::kApi:
      break;
    case Area::kUnknown:
      write_response(fd, 404, "text/plain; charset=utf-8", "not found\n");
      return;
  }

  // A daemon call: the same request, without the page's cookie and token, over a connection of
  // its own that the daemon closes after answering; its answer (streams included) is copied back
  // as it comes.
  std::unique_ptr<Connection> conn;
  try {
    conn = dialer_.dial();
  } catch (const ConnectError& e) {
    write_response(fd, 502, "application/json",
                   "{\"message\":\"cannot reach berthd at " + endpoint_.address.original + ": " + e.what() + "\"}");
    return;
  }
  if (conn->is_tls()) conn = relay_hijacked_tls(std::move(conn));
  int daemon = conn->native_handle();
  std::string out = head->method + " " + head->target.substr(std::strlen("/api")) +
                    " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\nUser-Agent: berth-ui\r\n";
  for (const char* name : kForwardedHeaders)
    if (auto v = head->header(name); !v.empty()) out += std::string(name) + ": " + v + "\r\n";
  if (head->content_length > 0 || head->method == "POST" || head->method == "PUT")
    out += "Content-Length: " + std::to_string(head->content_length) + "\r\n";
  out += "\r\n";
  bool ok = send_all(daemon, out.data(), out.size());
  // The body: what came with the head, then the rest from the page as it arrives.
  uint64_t left = head->content_length;
  std::string_view first(head->leftover);
  if (first.size() > left) first = first.substr(0, left);
  ok = ok && send_all(daemon, first.data(), first.size());
  left -= first.size();
  char buf[64 * 1024];
  while (ok && left > 0) {
    ssize_t n = ::recv(fd, buf, std::min<uint64_t>(sizeof buf, left), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the page gave up on its upload
    ok = send_all(daemon, buf, static_cast<size_t>(n));
    left -= static_cast<uint64_t>(n);
  }
  if (!ok) {
    write_response(fd, 502, "application/json", "{\"message\":\"the daemon closed the connection\"}");
    return;
  }
  // The page sends nothing more on this connection; its hang-up ends a stream (logs, events).
  relay_socket(daemon, fd, fd, /*stop_at_in_eof=*/true);
  conn->close();
}

}  // namespace berth::cli::ui
