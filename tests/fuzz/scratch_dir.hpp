// One scratch directory per fuzz process, removed when the process exits normally (libFuzzer's
// -runs and -max_total_time end through exit()), so short CI runs leave nothing under /tmp.
// A crash keeps it, which is what one wants when reproducing.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace berth::fuzzing {

inline const std::filesystem::path& scratch_dir(const char* prefix) {
  static const std::filesystem::path dir = [prefix] {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) __builtin_trap();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(nullptr), ec);
    });
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

}  // namespace berth::fuzzing
