#include "core/common/resident_code.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace berth::core {
namespace {

struct Mapping {
  unsigned long start = 0;
  unsigned long end = 0;
  bool code = false;        // r-xp; otherwise r--p
  long anonymous_kib = -1;  // copy-on-write pages in it (relocated data); -1: not read
};

// The private, file-backed mappings that are not writable, from /proc/self/smaps: each
// mapping's header line, then its "Key: value kB" lines.
std::vector<Mapping> private_file_mappings() {
  std::vector<Mapping> out;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  Mapping* current = nullptr;
  while (std::getline(smaps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) == 3) {
      current = nullptr;
      const bool readable_private = perms[0] == 'r' && perms[1] != 'w' && perms[3] == 'p';
      const bool file = line.find(" /") != std::string::npos;
      if (readable_private && file && end > start) {
        out.push_back(Mapping{start, end, perms[2] == 'x'});
        current = &out.back();
      }
      continue;
    }
    if (current != nullptr && line.rfind("Anonymous:", 0) == 0) {
      current->anonymous_kib = std::stol(line.substr(10));
    }
  }
  return out;
}

}  // namespace

void drop_resident_code() {
  for (const auto& m : private_file_mappings()) {
    // Code is never written. A read-only mapping may hold relocated copy-on-write pages
    // (RELRO after its mprotect), which dropping would throw away: only one with none at all
    // is clean file pages (symbol tables, string and hash tables the dynamic linker read).
    const bool clean = m.code || m.anonymous_kib == 0;
    if (clean) ::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED);
  }
}

}  // namespace berth::core
