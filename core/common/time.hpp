// Time formats of the Docker API: RFC 3339 with nanoseconds, the zero time, unix seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

int64_t now_unix_nano();

// "2026-11-22T18:24:14.286630349Z"; 0 gives Docker's zero time "0001-01-01T00:00:00Z".
std::string rfc3339_nano(int64_t unix_nano);

// "2026-11-22T18:24:14Z" (no fraction, as in volume CreatedAt and cp stat mtime).
std::string rfc3339_seconds(int64_t unix_seconds);

// Parses RFC 3339 with optional fraction and Z or +hh:mm offset; the zero time gives 0.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Docker's since/until values: unix seconds, "seconds.nanoseconds", or RFC 3339.
std::optional<int64_t> parse_timestamp_param(std::string_view text);

}  // namespace berth
