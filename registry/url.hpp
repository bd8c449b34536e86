// Percent-decoding of request targets and encoding of values put into Link headers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace berth::registry::url {

// %XX decoded; '+' kept as is (paths). nullopt for a malformed escape.
std::optional<std::string> decode_path(std::string_view text);
// "a=1&b=x+y" → {a:1, b:"x y"}; malformed escapes keep their raw text.
std::multimap<std::string, std::string> parse_query(std::string_view text);
// Encodes everything but unreserved characters and '/', ':' (names, digests, tags).
std::string encode_component(std::string_view text);

}  // namespace berth::registry::url
