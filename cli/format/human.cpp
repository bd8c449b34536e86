#include "cli/format/human.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "cli/app/errors.hpp"

namespace berth::cli {

namespace {

std::string custom_size(double size, double base, const char* const* units, int count,
                        int precision) {
  int i = 0;
  while (size >= base && i < count - 1) {
    size /= base;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g%s", precision, size, units[i]);
  return buf;
}

}  // namespace

std::string human_size(double bytes, int precision) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  return custom_size(bytes, 1000.0, kUnits, 9, precision);
}

std::string bytes_size(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  return custom_size(bytes, 1024.0, kUnits, 9, 4);
}

std::string human_duration(double d) {
  auto seconds = static_cast<long long>(d);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  auto minutes = static_cast<long long>(d / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  auto hours = static_cast<long long>(d / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(static_cast<long long>(d / 3600) / 24 / 365) + " years";
}

std::string time_ago(int64_t unix_seconds) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double d = static_cast<double>(now.tv_sec - unix_seconds) + now.tv_nsec / 1e9;
  return human_duration(d) + " ago";
}

std::string format_local_time(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  localtime_r(&t, &tm);
  char date[64], zone[48];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  off = std::labs(off);
  std::snprintf(zone, sizeof zone, "%c%02ld%02ld", sign, off / 3600, (off % 3600) / 60);
  return std::string(date) + " " + zone + " " + (tm.tm_zone ? tm.tm_zone : "UTC");
}

int64_t ram_in_bytes(const std::string& text) {
  if (text.empty()) return -1;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return -1;
  std::string suffix(end);
  for (auto& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!suffix.empty() && suffix.back() == 'b') suffix.pop_back();
  if (suffix.size() == 2 && suffix[1] == 'i') suffix.pop_back();
  double mult = 1;
  if (suffix.empty()) mult = 1;
  else if (suffix == "k") mult = 1024.0;
  else if (suffix == "m") mult = 1024.0 * 1024;
  else if (suffix == "g") mult = 1024.0 * 1024 * 1024;
  else if (suffix == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (suffix == "p") mult = 1024.0 * 1024 * 1024 * 1024 * 1024;
  else return -1;
  return static_cast<int64_t>(v * mult);
}

bool parse_rfc3339(const std::string& text, int64_t* seconds, int64_t* nanos) {
  struct tm tm {};
  const char* p = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p) return false;
  int64_t ns = 0;
  if (*p == '.') {
    ++p;
    int digits = 0;
    while (std::isdigit(static_cast<unsigned char>(*p))) {
      if (digits < 9) {
        ns = ns * 10 + (*p - '0');
        ++digits;
      }
      ++p;
    }
    while (digits++ < 9) ns *= 10;
  }
  long offset = 0;
  if (*p == '+' || *p == '-') {
    int hh = 0, mm = 0;
    if (std::sscanf(p + 1, "%d:%d", &hh, &mm) < 1) return false;
    offset = (hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
  } else if (*p != 'Z' && *p != 'z' && *p != 0) {
    return false;
  }
  *seconds = static_cast<int64_t>(timegm(&tm)) - offset;
  if (nanos) *nanos = ns;
  return true;
}

std::string format_rfc3339_nano(int64_t unix_nanos, bool fixed) {
  time_t t = static_cast<time_t>(unix_nanos / 1000000000);
  int64_t ns = unix_nanos % 1000000000;
  struct tm tm;
  localtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = date;
  if (ns || fixed) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns));
    std::string f = frac;
    if (!fixed)
      while (f.back() == '0') f.pop_back();  // Go's RFC3339Nano trims trailing zeros
    out += f;
  }
  long off = tm.tm_gmtoff;
  if (off == 0) return out + "Z";
  char zone[48];
  std::snprintf(zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', std::labs(off) / 3600,
                (std::labs(off) % 3600) / 60);
  return out + zone;
}

bool parse_go_duration(const std::string& text, double* seconds) {
  if (text.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (text[0] == '-' || text[0] == '+') {
    neg = text[0] == '-';
    ++i;
  }
  if (text.substr(i) == "0") {
    *seconds = 0;
    return true;
  }
  double total = 0;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return false;
    double v = std::strtod(text.substr(start, i - start).c_str(), nullptr);
    size_t ustart = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.')
      ++i;
    std::string unit = text.substr(ustart, i - ustart);
    double mult;
    if (unit == "ns") mult = 1e-9;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") mult = 1e-6;
    else if (unit == "ms") mult = 1e-3;
    else if (unit == "s") mult = 1;
    else if (unit == "m") mult = 60;
    else if (unit == "h") mult = 3600;
    else return false;
    total += v * mult;
    any = true;
  }
  if (!any) return false;
  *seconds = neg ? -total : total;
  return true;
}

std::string api_timestamp(const std::string& value) {
  double d = 0;
  if (value != "0" && parse_go_duration(value, &d)) {
    return std::to_string(static_cast<long long>(std::time(nullptr) - static_cast<long long>(d)));
  }
  int64_t sec = 0, ns = 0;
  std::string v = value;
  bool has_zone = v.find_first_of("zZ+") != std::string::npos ||
                  std::count(v.begin(), v.end(), '-') == 3;
  if (v.find('-') != std::string::npos) {
    // Dates: complete partial forms, then parse (local time when no zone is given).
    std::string full = v;
    if (full.find('T') == std::string::npos) full += "T00:00:00";
    size_t tpos = full.find('T');
    std::string tail = full.substr(tpos + 1);
    size_t colons = std::count(tail.begin(), tail.end(), ':');
    if (has_zone && tail.find_first_of("zZ") == std::string::npos && colons > 0) --colons;
    if (colons == 0) full.insert(tpos + 3, ":00:00");
    else if (colons == 1) full.insert(tpos + 6, ":00");
    if (!has_zone) {
      struct tm tm {};
      const char* p = strptime(full.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
      if (!p) throw StatusError("failed to parse value as time or duration: \"" + value + "\"", 1);
      tm.tm_isdst = -1;
      sec = static_cast<int64_t>(mktime(&tm));
      if (*p == '.') {
        int64_t ignored = 0;
        parse_rfc3339(full + "Z", &ignored, &ns);  // only the fraction is used
      }
    } else if (!parse_rfc3339(full, &sec, &ns)) {
      throw StatusError("failed to parse value as time or duration: \"" + value + "\"", 1);
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(sec),
                  static_cast<long long>(ns));
    return buf;
  }
  // Unix timestamp (optionally with fraction) passes through.
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  if (value.empty() || *end) {
    throw StatusError("failed to parse value as time or duration: \"" + value + "\"", 1);
  }
  return value;
}

}  // namespace berth::cli
