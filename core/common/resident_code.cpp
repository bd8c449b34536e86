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
  bool code = false;       // r-xp
  bool read_only = false;  // r--p
  bool file = false;
  long anonymous_kib = -1;  // copy-on-write pages in it (relocated data); -1: not read
};

// /proc/self/smaps: each mapping's header line, then its "Key: value kB" lines.
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
      Mapping m{start, end};
      m.code = perms[0] == 'r' && perms[1] != 'w' && perms[2] == 'x' && perms[3] == 'p';
      m.read_only = perms[0] == 'r' && perms[1] != 'w' && perms[2] != 'x' && perms[3] == 'p';
      m.file = line.find(" /") != std::string::npos;
      if ((m.code || m.read_only) && m.file && end > start) {
        out.push_back(m);
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
    const bool clean = m.code || (m.read_only && m.anonymous_kib == 0);
    if (clean) ::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED);
  }
}

}  // namespace berth::core
