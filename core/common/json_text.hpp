// JSON as berthd writes it to clients: always valid UTF-8. Boost.JSON copies the bytes of a
// string as they are, and strings berthd did not parse itself (file names from a tar, paths
// from disk, a client's bytes echoed in an error) may hold invalid sequences, which make the
// whole answer undecodable for Go and Python clients. Each invalid sequence becomes U+FFFD, as
// Go's encoding/json (dockerd) does.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace berth::json_text {

// Serializes `value` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string serialize(const boost::json::value& value);

// `text` with every invalid UTF-8 sequence (a maximal subpart, as Unicode recommends) replaced
// by U+FFFD; returned unchanged when already valid.
std::string to_valid_utf8(std::string_view text);

// A name or value quoted in an error message: valid UTF-8, and cut in the middle with the
// number of bytes left out when longer than `max_bytes` (a 70 KB name must not make a 70 KB
// message).
std::string shorten_for_message(std::string_view text, size_t max_bytes = 256);

}  // namespace berth::json_text
