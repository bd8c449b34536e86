#include "core/common/resident_code.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <stdexcept>
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

struct Shape {
  virtual ~Shape() = default;
  virtual int sides() const = 0;
};
struct Square final : Shape {
  int sides() const override { return 4; }
};

// What lives in read-only mappings keeps working after they are dropped: vtables and typeinfo
// (relocated, RELRO: left alone), unwind tables (clean: read again from the file) and string
// constants.
TEST(ResidentCode, RelocatedDataAndUnwindTablesSurviveTheDrop) {
  std::unique_ptr<Shape> shape = std::make_unique<Square>();
  berth::core::drop_resident_code();
  EXPECT_EQ(shape->sides(), 4);
  EXPECT_NE(dynamic_cast<Square*>(shape.get()), nullptr);
  try {
    throw std::runtime_error("thrown after the drop");
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "thrown after the drop");
  }
}

}  // namespace
