#include "core/common/resident_code.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace berth::core {

void drop_resident_code() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) != 3) continue;
    const bool code = perms[0] == 'r' && perms[1] != 'w' && perms[2] == 'x' && perms[3] == 'p';
    if (!code || line.find(" /") == std::string::npos || end <= start) continue;
    ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
  }
}

}  // namespace berth::core
