// Builds tar archives in memory for tests (libarchive), including hostile ones.
#pragma once

#include <string>
#include <vector>

namespace berth::testing {

struct TarEntry {
  enum Type { kFile, kDir, kSymlink, kHardlink } type = kFile;
  std::string name;
  std::string content;  // kFile
  std::string link;     // kSymlink target or kHardlink target
  int mode = 0644;
};

// An uncompressed (or gzip) PAX tar of `entries`, in order.
std::string make_tar(const std::vector<TarEntry>& entries, bool gzip = false);

}  // namespace berth::testing
