// .dockerignore: Docker's pattern rules. One pattern a line; blank lines and lines starting with
// "#" are skipped; a leading "!" makes an exception that brings matching paths back; patterns are
// cleaned like paths ("/a/./b" is "a/b"); `*` and `?` never cross "/", `**` matches any number of
// directories, `[...]` classes and "\" escapes work as in Go's filepath.Match. A pattern that
// matches a directory excludes everything under it. The last pattern that matches decides.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::core::build {

class IgnoreMatcher {
 public:
  IgnoreMatcher() = default;
  explicit IgnoreMatcher(std::string_view dockerignore_text);

  // `path` is relative to the context root, "/"-separated ("src/a.c").
  bool excluded(std::string_view path) const;
  bool has_exceptions() const { return has_exceptions_; }
  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    std::string glob;
    bool exception = false;
  };
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
};

// Go filepath.Match extended with `**`; exposed for the tests.
bool glob_match(std::string_view pattern, std::string_view path);

// Lexical path cleaning (Go's path.Clean without a leading "/"): "./a//b/../c" is "a/c", "" is ".".
std::string clean_relative(std::string_view path);

}  // namespace berth::core::build
