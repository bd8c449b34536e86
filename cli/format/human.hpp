#pragma once

#include <cstdint>
#include <string>

namespace berth::cli {

// go-units HumanSizeWithPrecision: decimal units (kB, MB, ...), `precision` significant digits.
// images/ps/history use 3 ("1.98MB"), prune/df totals use 4 (HumanSize).
std::string human_size(double bytes, int precision = 3);
// go-units BytesSize: binary units with 4 significant digits ("23.54GiB").
std::string bytes_size(double bytes);
// go-units HumanDuration for a number of seconds (see reference §6.3).
std::string human_duration(double seconds);
// "N units ago" for a unix timestamp relative to now ("Less than a second ago", ...).
std::string time_ago(int64_t unix_seconds);
// Local time in Go's "2006-01-02 15:04:05 -0700 MST" layout (docker's CreatedAt columns).
std::string format_local_time(int64_t unix_seconds);
// Parses decimal/binary sizes like "512m", "1g", "100k" (docker's RAMInBytes); -1 on error.
int64_t ram_in_bytes(const std::string& text);
// Parses an RFC 3339 timestamp to unix seconds + nanoseconds; false on error.
bool parse_rfc3339(const std::string& text, int64_t* seconds, int64_t* nanos);
// Formats unix nanoseconds as RFC 3339 in local time; `fixed` keeps all 9 fraction digits
// (docker events' "2006-01-02T15:04:05.000000000Z07:00"), otherwise Go's RFC3339Nano trims.
std::string format_rfc3339_nano(int64_t unix_nanos, bool fixed = false);
// Go's time.ParseDuration ("1h30m", "10s", "1.5h"); false when not a duration.
bool parse_go_duration(const std::string& text, double* seconds);
// docker's GetTimestamp for --since/--until: durations become now-d in unix seconds, dates
// become "sec.nanos", unix timestamps pass through. Throws StatusError on garbage.
std::string api_timestamp(const std::string& value);

}  // namespace berth::cli
