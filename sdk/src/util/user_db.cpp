#include "berth/sdk/user_db.hpp"

namespace berth::sdk::userdb {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Every field, empty ones included ("a::b" has three).
std::vector<std::string_view> fields(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// The entry lines of a passwd or group file: trimmed, without blanks and comments.
template <class Fn>
void for_each_entry(std::string_view text, Fn fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    fn(fields(line, ':'));
  }
}

}  // namespace

bool parse_id(std::string_view text, uint32_t& out) {
  if (text.empty() || text.size() > 10) return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > 0xffffffffULL) return false;
  out = static_cast<uint32_t>(n);
  return true;
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for_each_entry(text, [&](const std::vector<std::string_view>& f) {
    PasswdEntry e;
    if (f.size() < 4 || !parse_id(f[2], e.uid) || !parse_id(f[3], e.gid)) return;
    e.name = std::string(f[0]);
    if (f.size() > 5) e.home = std::string(f[5]);
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  for_each_entry(text, [&](const std::vector<std::string_view>& f) {
    GroupEntry g;
    if (f.size() < 3 || !parse_id(f[2], g.gid)) return;
    g.name = std::string(f[0]);
    if (f.size() > 3) {
      for (auto m : fields(f[3], ',')) {
        m = trim(m);
        if (!m.empty()) g.members.emplace_back(m);
      }
    }
    out.push_back(std::move(g));
  });
  return out;
}

}  // namespace berth::sdk::userdb
