#include "core/common/resident_code.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssFile:", 0) == 0) return std::stol(line.substr(8));
  }
  return -1;
}

// Dropping the code pages keeps the process working (relocated data is left alone) and gives
// back file-backed resident memory.
TEST(ResidentCode, DroppingCodePagesKeepsEverythingWorking) {
  std::ostringstream warm;
  warm << "warm " << 42 << " " << 3.5;  // iostreams, locale: code in libstdc++
  const long before = resident_kib();
  ASSERT_GT(before, 0);
  berth::core::drop_resident_code();
  const long after = resident_kib();
  EXPECT_LT(after, before);
  std::ostringstream again;
  again << "again " << 42 << " " << 3.5;
  EXPECT_EQ(again.str(), "again 42 3.5");
  EXPECT_EQ(warm.str(), "warm 42 3.5");
}

}  // namespace
