// docker logs: reads the json-file log the monitor writes (rotated as <path>, <path>.1, ...),
// with tail, since/until, timestamps and follow across rotations.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::core::container {

struct LogQuery {
  bool stdout = true;
  bool stderr = true;
  bool timestamps = false;
  bool follow = false;
  int64_t since = 0;                // unix nano; 0 = beginning
  std::optional<int64_t> until;     // unix nano
  std::optional<int64_t> tail;      // lines; nullopt = all
};

struct LogEntry {
  int stream = 1;         // 1 stdout, 2 stderr
  std::string text;       // the line with its newline
  int64_t time = 0;       // unix nano
  std::string time_text;  // as written (RFC 3339 nano)
};

// Calls `emit` for each entry in order; `emit` returns false to stop (client gone). With follow,
// keeps reading new entries while `still_running` says so, then drains what is left.
Status read_logs(const std::string& path, int max_files, const LogQuery& query,
                 const std::function<bool(const LogEntry&)>& emit,
                 const std::function<bool()>& still_running);

// Parses one json-file line.
std::optional<LogEntry> parse_log_line(std::string_view line);

}  // namespace berth::core::container
