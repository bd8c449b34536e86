// Docker's json-file log, written by the monitor: one JSON object per line,
// {"log":"<line with its \n>","stream":"stdout|stderr","time":"<RFC3339Nano UTC>"}, lines split
// at '\n', a partial line flushed once 16 KiB long (and at exit), and size-based rotation
// <path> -> <path>.1 -> ... keeping max_files files in all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/sdk/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

class LogWriter {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;

  sdk::Status open(const std::string& path, int64_t max_size, int max_files);
  [[nodiscard]] bool active() const { return fd_.valid(); }
  // stream: 1 stdout, 2 stderr.
  void write(int stream, std::string_view data, int64_t now_unix_nano);
  // Writes what is left of both streams' partial lines.
  void flush(int64_t now_unix_nano);

 private:
  void emit(int stream, std::string_view line, int64_t now_unix_nano);
  void rotate();

  UniqueFd fd_;
  std::string path_;
  int64_t size_ = 0;
  int64_t max_size_ = 0;
  int max_files_ = 1;
  std::string pending_[2];
};

// Docker's JSON string escaping (its jsonfilelog encoder): ", \, control characters, <, > and &
// as \u escapes, invalid UTF-8 as \ufffd, U+2028/U+2029 escaped.
void append_json_string(std::string& out, std::string_view text);
// Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros.
std::string rfc3339_nano(int64_t unix_nano);

}  // namespace berth::plugins::isolation
