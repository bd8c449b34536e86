#include "core/container/logs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include "core/common/time.hpp"
#include "core/common/unique_fd.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

bool wanted(const LogQuery& q, const LogEntry& e) {
  if (e.stream == 1 && !q.stdout) return false;
  if (e.stream == 2 && !q.stderr) return false;
  if (q.since > 0 && e.time < q.since) return false;
  if (q.until && e.time > *q.until) return false;
  return true;
}

// Splits complete lines out of `pending`, leaving a partial last line there.
template <class F>
void each_line(std::string& pending, F&& f) {
  size_t start = 0;
  for (;;) {
    size_t nl = pending.find('\n', start);
    if (nl == std::string::npos) break;
    f(std::string_view(pending).substr(start, nl - start));
    start = nl + 1;
  }
  pending.erase(0, start);
}

Result<std::string> read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("read log");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

std::optional<LogEntry> parse_log_line(std::string_view line) {
  json::error_code ec;
  auto v = json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  LogEntry e;
  if (const auto* l = o.if_contains("log"); l != nullptr && l->is_string()) e.text = std::string(l->get_string());
  if (const auto* s = o.if_contains("stream"); s != nullptr && s->is_string()) {
    e.stream = s->get_string() == "stderr" ? 2 : 1;
  }
  if (const auto* t = o.if_contains("time"); t != nullptr && t->is_string()) {
    e.time_text = std::string(t->get_string());
    e.time = parse_rfc3339(e.time_text).value_or(0);
  }
  return e;
}

Status read_logs(const std::string& path, int max_files, const LogQuery& query,
                 const std::function<bool(const LogEntry&)>& emit,
                 const std::function<bool()>& still_running) {
  // Oldest first: <path>.N-1 ... <path>.1, then <path>, which stays open for follow.
  std::vector<LogEntry> entries;
  auto collect = [&](std::string& data) {
    each_line(data, [&](std::string_view line) {
      if (auto e = parse_log_line(line); e && wanted(query, *e)) entries.push_back(std::move(*e));
    });
  };
  for (int i = std::max(max_files, 1) - 1; i >= 1; --i) {
    UniqueFd fd(::open((path + "." + std::to_string(i)).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) continue;
    auto data = read_all(fd.get());
    if (!data) return data.error();
    collect(*data);
  }
  UniqueFd current(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string pending;
  if (current) {
    auto data = read_all(current.get());
    if (!data) return data.error();
    pending = std::move(*data);
    collect(pending);
  }
  size_t first = 0;
  if (query.tail && *query.tail >= 0 && static_cast<size_t>(*query.tail) < entries.size()) {
    first = entries.size() - static_cast<size_t>(*query.tail);
  }
  for (size_t i = first; i < entries.size(); ++i) {
    if (!emit(entries[i])) return {};
  }
  if (!query.follow) return {};

  // Follow: read what the monitor appends; when the file is rotated, finish the old one and
  // continue with the new one. End when the container stopped and nothing more arrives.
  auto identity = [](int fd) {
    struct stat st {};
    ::fstat(fd, &st);
    return std::make_pair(st.st_dev, st.st_ino);
  };
  auto pump = [&]() -> Result<bool> {
    if (!current) {
      current.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!current) return true;
    }
    auto data = read_all(current.get());
    if (!data) return data.error();
    pending += *data;
    bool go_on = true;
    each_line(pending, [&](std::string_view line) {
      if (!go_on) return;
      auto e = parse_log_line(line);
      if (!e || !wanted(query, *e)) return;
      if (query.until && e->time > *query.until) {
        go_on = false;
        return;
      }
      go_on = emit(*e);
    });
    if (!go_on) return false;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && identity(current.get()) != std::make_pair(st.st_dev, st.st_ino)) {
      // Rotated: whatever was left in the old file was read above.
      current.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      pending.clear();
    }
    return true;
  };
  for (;;) {
    bool running = still_running();
    auto more = pump();
    if (!more) return more.error();
    if (!*more) return {};
    if (!running) {
      // One last read after the stop: the monitor flushes before the exit is reported.
      auto last = pump();
      if (!last) return last.error();
      return {};
    }
    if (query.until && now_unix_nano() > *query.until) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace berth::core::container
