// Who may use `berth ui`'s server: the pure decision, apart from sockets so it is unit-tested.
//
// The page's URL carries a random token (as Jupyter's does). Opening it sets an HttpOnly,
// SameSite=Strict cookie and the page learns the token from the HTML it is served; from then on:
//   - the page (/) needs the cookie or ?token=;
//   - every daemon call (/api/...) needs the token in the X-Berth-Token header. A cross-site page
//     cannot set that header without a CORS preflight, which this server never grants, so no
//     other site can act on the daemon or read from it;
//   - the terminal's websocket (/ws/...) needs ?token= (browsers cannot set headers there) and an
//     Origin of this server;
//   - static assets (the page's script, styles, xterm.js) hold no secret and need nothing.
// Every request needs a Host naming this server, so a DNS-rebinding name is refused even before
// the token is looked at.
#pragma once

#include <string>

namespace berth::cli::ui {

struct RequestFacts {
  std::string method;        // GET, POST, ...
  std::string path;          // without the query
  std::string query_token;   // ?token=
  std::string cookie_token;  // the berth_ui_token cookie
  std::string header_token;  // X-Berth-Token
  std::string host;          // Host header
  std::string origin;        // Origin header ("" when absent)
};

struct Decision {
  bool allowed = false;
  int status = 0;      // when refused: 403, 404, 405 or 421
  std::string reason;  // when refused: said to the browser
};

enum class Area { kPage, kAsset, kApi, kWebsocket, kUnknown };

// Which part of the server a path belongs to.
Area area_of(const std::string& path);

// Whether `host` (a Host header) names this server: 127.0.0.1, localhost or [::1] on `port`,
// or `listen_host` when the user chose another address.
bool host_is_ours(const std::string& host, int port, const std::string& listen_host);

// The decision for one request to a server on `port` whose token is `token`.
Decision authorize(const RequestFacts& r, const std::string& token, int port,
                   const std::string& listen_host);

// Compares tokens in time independent of where they first differ.
bool tokens_equal(const std::string& a, const std::string& b);

// 32 random bytes from OpenSSL, as 64 hex digits.
std::string new_token();

// The value of cookie `name` in a Cookie header ("" when absent).
std::string cookie_value(const std::string& cookie_header, const std::string& name);

}  // namespace berth::cli::ui
