#include "cli/ui/ui_auth.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace berth::cli::ui {

Area area_of(const std::string& path) {
  if (path == "/" || path == "/index.html") return Area::kPage;
  if (path.rfind("/assets/", 0) == 0) return Area::kAsset;
  if (path.rfind("/api/", 0) == 0) return Area::kApi;
  if (path.rfind("/ws/", 0) == 0) return Area::kWebsocket;
  return Area::kUnknown;
}

bool host_is_ours(const std::string& host, int port, const std::string& listen_host) {
  std::string suffix = ":" + std::to_string(port);
  if (host.size() <= suffix.size() || host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  std::string name = host.substr(0, host.size() - suffix.size());
  if (name == "127.0.0.1" || name == "localhost" || name == "[::1]") return true;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  return !listen_host.empty() && name == listen_host;
}

bool tokens_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

static bool origin_is_ours(const std::string& origin, int port, const std::string& listen_host) {
  const std::string scheme = "http://";
  const std::string tls_scheme = "https://";
  if (origin.rfind(scheme, 0) == 0) return host_is_ours(origin.substr(scheme.size()), port, listen_host);
  if (origin.rfind(tls_scheme, 0) == 0)
    return host_is_ours(origin.substr(tls_scheme.size()), port, listen_host);
  return false;
}

Decision authorize(const RequestFacts& r, const std::string& token, int port,
                   const std::string& listen_host) {
  if (!host_is_ours(r.host, port, listen_host))
    return {false, 421, "this server answers only to its own address (Host: " + r.host + ")"};
  // A browser names the page that sent a request; one from another origin is refused whatever
  // it carries (a same-origin GET may leave Origin out).
  if (!r.origin.empty() && !origin_is_ours(r.origin, port, listen_host))
    return {false, 403, "requests from " + r.origin + " are refused"};
  switch (area_of(r.path)) {
    case Area::kAsset:
      if (r.method != "GET" && r.method != "HEAD") return {false, 405, "assets are read-only"};
      return {true, 0, ""};
    case Area::kPage:
      if (r.method != "GET" && r.method != "HEAD") return {false, 405, "the page is read-only"};
      if (tokens_equal(r.query_token, token) || tokens_equal(r.cookie_token, token)) return {true, 0, ""};
      return {false, 403, "open the URL berth ui printed (it carries the access token)"};
    case Area::kApi:
      if (tokens_equal(r.header_token, token)) return {true, 0, ""};
      return {false, 403, "daemon calls need the X-Berth-Token header"};
    case Area::kWebsocket:
      if (r.origin.empty()) return {false, 403, "a websocket needs an Origin"};
      if (tokens_equal(r.query_token, token)) return {true, 0, ""};
      return {false, 403, "the websocket needs the access token"};
    case Area::kUnknown:
      break;
  }
  return {false, 404, "not found"};
}

std::string new_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the access token");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::string cookie_value(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    size_t first = part.find_first_not_of(' ');
    if (first != std::string::npos) part = part.substr(first);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

}  // namespace berth::cli::ui
