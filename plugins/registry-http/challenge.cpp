#include "challenge.hpp"

#include <algorithm>

#include <cctype>

namespace berth::plugins::registry_http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void skip_space(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string read_token(std::string_view s, size_t& i) {
  size_t start = i;
  while (i < s.size() && is_token_char(s[i])) ++i;
  return std::string(s.substr(start, i - start));
}

}  // namespace

std::vector<Challenge> parse_challenges(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  while (i < h.size()) {
    skip_space(h, i);
    while (i < h.size() && (h[i] == ',' || h[i] == ' ')) ++i;
    std::string scheme = read_token(h, i);
    if (scheme.empty()) break;
    Challenge c{lower(scheme), {}};
    // auth-params: key=value or key="quoted", comma separated; a token not followed by '='
    // starts the next challenge.
    for (;;) {
      skip_space(h, i);
      size_t save = i;
      std::string key = read_token(h, i);
      skip_space(h, i);
      if (key.empty() || i >= h.size() || h[i] != '=') {
        i = save;
        break;
      }
      ++i;
      skip_space(h, i);
      std::string value;
      if (i < h.size() && h[i] == '"') {
        ++i;
        while (i < h.size() && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value += h[i++];
        }
        if (i < h.size()) ++i;
      } else {
        value = read_token(h, i);
      }
      c.parameters[lower(key)] = value;
      skip_space(h, i);
      if (i < h.size() && h[i] == ',') ++i;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  return default_port ? h : h + ":" + port;
}

std::string Url::string() const { return scheme + "://" + authority() + target; }

std::optional<Url> parse_url(std::string_view text) {
  Url u;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  u.scheme = lower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  text.remove_prefix(sep + 3);
  auto slash = text.find_first_of("/?");
  std::string_view authority = text.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  if (!u.target.empty() && u.target[0] == '?') u.target.insert(0, "/");
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return std::nullopt;
  if (authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority[0] == ':') u.port = std::string(authority.substr(1));
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  if (u.host.empty()) return std::nullopt;
  if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
  for (char c : u.port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return u;
}

std::optional<Url> resolve_location(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parse_url(location);
  if (location.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(location));
  Url u = base;
  if (!location.empty() && location[0] == '/') {
    u.target = std::string(location);
  } else {
    std::string path = base.target.substr(0, base.target.find('?'));
    path = path.substr(0, path.rfind('/') + 1);
    u.target = path + std::string(location);
  }
  return u;
}

std::string next_link(std::string_view header) {
  // Entries are comma separated; a target never holds '>' and parameters never hold '<'.
  while (!header.empty()) {
    size_t open = header.find('<');
    if (open == std::string_view::npos) return "";
    size_t close = header.find('>', open);
    if (close == std::string_view::npos) return "";
    std::string_view target = header.substr(open + 1, close - open - 1);
    size_t end = header.find('<', close);
    std::string params(header.substr(close + 1, end == std::string_view::npos ? std::string_view::npos : end - close - 1));
    for (auto& c : params) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
    if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos) {
      return std::string(target);
    }
    if (end == std::string_view::npos) return "";
    header.remove_prefix(end);
  }
  return "";
}

std::string query_escape(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace berth::plugins::registry_http
