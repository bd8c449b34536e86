// .dockerignore patterns (see dockerignore.hpp).
#include "core/build/dockerignore.hpp"

#include <cstdint>
#include <unordered_set>
#include <vector>

namespace berth::core::build {
namespace {

// One "[...]" class at pattern[pi] (after the '['); sets `next` past the ']'. False when the
// class is malformed (then the pattern matches nothing, as Go reports ErrBadPattern).
bool match_class(std::string_view p, size_t pi, char c, size_t& next, bool& matched) {
  bool negate = false;
  if (pi < p.size() && (p[pi] == '^' || p[pi] == '!')) {
    negate = true;
    ++pi;
  }
  bool found = false;
  bool first = true;
  while (pi < p.size() && (first || p[pi] != ']')) {
    first = false;
    char lo = p[pi];
    if (lo == '\\' && pi + 1 < p.size()) lo = p[++pi];
    ++pi;
    char hi = lo;
    if (pi + 1 < p.size() && p[pi] == '-' && p[pi + 1] != ']') {
      hi = p[pi + 1];
      if (hi == '\\' && pi + 2 < p.size()) {
        hi = p[pi + 2];
        ++pi;
      }
      pi += 2;
    }
    if (lo <= c && c <= hi) found = true;
  }
  if (pi >= p.size()) return false;  // no closing ']'
  next = pi + 1;
  matched = found != negate;
  return true;
}

// Positions (pattern, path) already shown not to match: without them a pattern of many `*`
// backtracks exponentially (the fuzzer found `*a*a*a...` hanging); with them each pair of
// positions is tried once.
struct Failed {
  std::unordered_set<uint64_t> seen;
  static uint64_t key(size_t pi, size_t si) { return (static_cast<uint64_t>(pi) << 32) | (si & 0xffffffffu); }
};

bool match_at(std::string_view p, size_t pi, std::string_view s, size_t si, int depth, Failed& failed);

bool match_from(std::string_view p, size_t pi, std::string_view s, size_t si, int depth, Failed& failed) {
  if (failed.seen.contains(Failed::key(pi, si))) return false;
  bool ok = match_at(p, pi, s, si, depth, failed);
  if (!ok) failed.seen.insert(Failed::key(pi, si));
  return ok;
}

bool match_at(std::string_view p, size_t pi, std::string_view s, size_t si, int depth, Failed& failed) {
  if (depth > 64) return false;  // pathological patterns: give up rather than recurse forever
  while (pi < p.size()) {
    char pc = p[pi];
    if (pc == '*') {
      if (pi + 1 < p.size() && p[pi + 1] == '*') {
        size_t rest = pi + 2;
        bool slash = rest < p.size() && p[rest] == '/';
        if (slash) {
          // "**/": zero directories, or any prefix ending in "/".
          if (match_from(p, rest + 1, s, si, depth + 1, failed)) return true;
          for (size_t k = si; k < s.size(); ++k) {
            if (s[k] == '/' && match_from(p, rest + 1, s, k + 1, depth + 1, failed)) return true;
          }
          return false;
        }
        for (size_t k = si; k <= s.size(); ++k) {
          if (match_from(p, rest, s, k, depth + 1, failed)) return true;
        }
        return false;
      }
      for (size_t k = si; k <= s.size(); ++k) {
        if (match_from(p, pi + 1, s, k, depth + 1, failed)) return true;
        if (k < s.size() && s[k] == '/') break;
      }
      return false;
    }
    if (si >= s.size()) return false;
    char c = s[si];
    if (pc == '?') {
      if (c == '/') return false;
      ++pi;
    } else if (pc == '[') {
      size_t next = 0;
      bool matched = false;
      if (c == '/' || !match_class(p, pi + 1, c, next, matched) || !matched) return false;
      pi = next;
    } else {
      if (pc == '\\' && pi + 1 < p.size()) pc = p[++pi];
      if (pc != c) return false;
      ++pi;
    }
    ++si;
  }
  return si == s.size();
}

}  // namespace

std::string clean_relative(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else parts.push_back(part);
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (parts.empty()) return ".";
  std::string out;
  for (auto part : parts) {
    if (!out.empty()) out += '/';
    out.append(part);
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view path) {
  Failed failed;
  return match_from(pattern, 0, path, 0, 0, failed);
}

IgnoreMatcher::IgnoreMatcher(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    Pattern p;
    if (line.front() == '!') {
      p.exception = true;
      line.remove_prefix(1);
      has_exceptions_ = true;
    }
    while (!line.empty() && line.front() == '/') line.remove_prefix(1);
    p.glob = clean_relative(line);
    if (p.glob == ".") continue;
    patterns_.push_back(std::move(p));
  }
}

bool IgnoreMatcher::excluded(std::string_view path) const {
  std::string clean = clean_relative(path);
  bool result = false;
  for (const auto& p : patterns_) {
    // The path itself or any of its parents.
    bool hit = false;
    for (size_t end = 0; !hit;) {
      end = clean.find('/', end);
      std::string_view candidate = std::string_view(clean).substr(0, end);
      if (glob_match(p.glob, candidate)) hit = true;
      if (end == std::string::npos) break;
      ++end;
    }
    if (hit) result = !p.exception;
  }
  return result;
}

}  // namespace berth::core::build
