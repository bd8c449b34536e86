// WWW-Authenticate challenges (RFC 7235) as registries send them, and the URL arithmetic the
// transport needs (absolute and relative Location headers, the next page of a Link header). Pure: unit-tested without a network.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::plugins::registry_http {

struct Challenge {
  std::string scheme;                               // lowercase: "bearer", "basic"
  std::map<std::string, std::string> parameters;    // lowercase keys: realm, service, scope
};

// Every challenge of a WWW-Authenticate header value (several may be comma separated).
std::vector<Challenge> parse_challenges(std::string_view header);

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::string port;    // always set ("80"/"443" by default)
  std::string target;  // path and query, "/" at least

  // "host:port" as the Host header and the pool key want it (port omitted when default).
  std::string authority() const;
  std::string string() const;
};

std::optional<Url> parse_url(std::string_view text);
// Resolves a Location header against the URL it answered: absolute, scheme-relative ("//h/p"),
// absolute-path ("/p") and relative forms.
std::optional<Url> resolve_location(const Url& base, std::string_view location);

// The target of a Link header's rel="next" entry (RFC 8288, as registries page tag lists and
// catalogs: `</v2/x/tags/list?n=2&last=b>; rel="next"`), "" when there is none.
std::string next_link(std::string_view header);

// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
std::string query_escape(std::string_view value);

}  // namespace berth::plugins::registry_http
