#include "monitor/log_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '<':
        case '>':
        case '&':
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: copied when valid, \ufffd for each bad byte.
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len != 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (valid) {
      const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) valid = false;
    }
    if (!valid) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out += cp == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.data() + i, len);
    }
    i += len;
  }
  out.push_back('"');
}

std::string rfc3339_nano(int64_t unix_nano) {
  // Hand-formatted (Howard Hinnant's civil_from_days): the monitor's loop stays clear of
  // strftime and printf, whose code would otherwise stay resident in every monitor.
  int64_t secs = unix_nano / 1000000000LL;
  int64_t nanos = unix_nano % 1000000000LL;
  if (nanos < 0) {
    nanos += 1000000000LL;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[40];
  auto put = [&](int pos, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[pos + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  buf[4] = '-';
  put(5, month, 2);
  buf[7] = '-';
  put(8, day, 2);
  buf[10] = 'T';
  put(11, rem / 3600, 2);
  buf[13] = ':';
  put(14, rem / 60 % 60, 2);
  buf[16] = ':';
  put(17, rem % 60, 2);
  int len = 19;
  if (nanos != 0) {
    buf[len++] = '.';
    put(len, nanos, 9);
    len += 9;
    while (buf[len - 1] == '0') --len;  // RFC3339Nano drops trailing zeros
  }
  buf[len++] = 'Z';
  return std::string(buf, static_cast<size_t>(len));
}

sdk::Status LogWriter::open(const std::string& path, int64_t max_size, int max_files) {
  path_ = path;
  max_size_ = max_size;
  max_files_ = max_files < 1 ? 1 : max_files;
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) return sdk::errno_error("open log " + path);
  struct stat st {};
  if (::fstat(fd_.get(), &st) == 0) size_ = st.st_size;
  return {};
}

void LogWriter::write(int stream, std::string_view data, int64_t now) {
  if (!fd_) return;
  std::string& pending = pending_[stream == 2 ? 1 : 0];
  while (!data.empty()) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      pending.append(data);
      data = {};
    } else {
      pending.append(data.substr(0, nl + 1));
      data.remove_prefix(nl + 1);
      emit(stream, pending, now);
      pending.clear();
    }
    // A line that never ends is cut into 16 KiB partial messages, like Docker does.
    while (pending.size() >= kMaxLine) {
      emit(stream, std::string_view(pending).substr(0, kMaxLine), now);
      pending.erase(0, kMaxLine);
    }
  }
}

void LogWriter::flush(int64_t now) {
  for (int i = 0; i < 2; ++i) {
    if (!pending_[i].empty()) {
      emit(i + 1, pending_[i], now);
      pending_[i].clear();
    }
  }
}

void LogWriter::emit(int stream, std::string_view line, int64_t now) {
  std::string record;
  record.reserve(line.size() + 80);
  record += "{\"log\":";
  append_json_string(record, line);
  record +=
      stream == 2 ? ",\"stream\":\"stderr\",\"time\":\"" : ",\"stream\":\"stdout\",\"time\":\"";
  record += rfc3339_nano(now);
  record += "\"}\n";
  if (max_size_ > 0 && size_ > 0 && size_ + static_cast<int64_t>(record.size()) > max_size_) {
    rotate();
  }
  if (write_all(fd_.get(), record.data(), record.size())) {
    size_ += static_cast<int64_t>(record.size());
  }
}

void LogWriter::rotate() {
  if (max_files_ <= 1) {
    if (::ftruncate(fd_.get(), 0) == 0) size_ = 0;
    return;
  }
  // <path>.(n-1) is dropped, every other file moves one up, <path> becomes <path>.1.
  ::unlink((path_ + "." + std::to_string(max_files_ - 1)).c_str());
  for (int i = max_files_ - 2; i >= 1; --i) {
    ::rename((path_ + "." + std::to_string(i)).c_str(),
             (path_ + "." + std::to_string(i + 1)).c_str());
  }
  ::rename(path_.c_str(), (path_ + ".1").c_str());
  UniqueFd fresh(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fresh) return;  // keep writing to the renamed file rather than losing output
  fd_ = std::move(fresh);
  size_ = 0;
}

}  // namespace berth::plugins::isolation
