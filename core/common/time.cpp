#include "core/common/time.hpp"

#include <cstdio>
#include <ctime>

namespace berth {

int64_t now_unix_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339_nano(int64_t unix_nano) {
  if (unix_nano == 0) return "0001-01-01T00:00:00Z";
  time_t secs = static_cast<time_t>(unix_nano / 1000000000);
  long nanos = static_cast<long>(unix_nano % 1000000000);
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  return buf;
}

std::string rfc3339_seconds(int64_t unix_seconds) {
  time_t secs = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  if (text.rfind("0001-01-01T00:00:00", 0) == 0) return 0;
  int y, mo, d, h, mi, s;
  int consumed = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
      6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  int64_t nanos = 0;
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (rest[0] - '0');
        ++digits;
      }
      rest.remove_prefix(1);
    }
    while (digits++ < 9) nanos *= 10;
  }
  int64_t offset = 0;
  if (rest == "Z" || rest.empty()) {
    offset = 0;
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
  return secs * 1000000000 + nanos;
}

std::optional<int64_t> parse_timestamp_param(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find('-') != std::string_view::npos && text.find('T') != std::string_view::npos) {
    return parse_rfc3339(text);
  }
  int64_t secs = 0;
  int64_t nanos = 0;
  size_t i = 0;
  bool neg = false;
  if (text[0] == '-') {
    neg = true;
    i = 1;
  }
  if (i >= text.size()) return std::nullopt;
  for (; i < text.size() && text[i] != '.'; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    secs = secs * 10 + (text[i] - '0');
  }
  if (i < text.size()) {
    ++i;
    int digits = 0;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      if (digits < 9) {
        nanos = nanos * 10 + (text[i] - '0');
        ++digits;
      }
    }
    while (digits++ < 9) nanos *= 10;
  }
  int64_t v = secs * 1000000000 + nanos;
  return neg ? -v : v;
}

}  // namespace berth
