#include "common/sys_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

std::string errno_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

sdk::Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sdk::errno_error("open " + path);
  return read_whole_fd(fd.get(), path);
}

sdk::Result<std::string> read_whole_fd(int fd, const std::string& what) {
  std::string out;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(out.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sdk::errno_error("read " + what);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

sdk::Status write_existing(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sdk::errno_error("open " + path);
  ssize_t n;
  do {
    n = ::write(fd.get(), data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sdk::errno_error("write " + path);
  if (static_cast<size_t>(n) != data.size()) {
    return sdk::make_error(sdk::ErrorCode::kInternal, "write " + path + ": short write");
  }
  return {};
}

sdk::Status write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sdk::errno_error("write");
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

sdk::Status make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty()) continue;
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      return sdk::errno_error("mkdir " + part);
    }
  }
  return {};
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string_view> split(std::string_view text, char sep, bool skip_empty) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    if (!skip_empty || !part.empty()) out.push_back(part);
    start = end + 1;
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<int64_t> parse_int64(std::string_view text) {
  text = trim(text);
  int64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<uint64_t> parse_uint64(std::string_view text) {
  text = trim(text);
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<std::string_view> find_key(std::string_view text, std::string_view key, char sep) {
  for (std::string_view line : split(text, '\n')) {
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == sep) {
      return trim(line.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  auto fields = split(std::string_view(*stat).substr(close + 1), ' ');
  // fields[0] is field 3 (state); field 22 is fields[19].
  if (fields.size() < 20) return std::nullopt;
  return parse_uint64(fields[19]);
}

int64_t now_unix_nano() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

}  // namespace berth::plugins::isolation
