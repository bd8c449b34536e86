#include "core/common/kernel_floor.hpp"

#include <gtest/gtest.h>

namespace berth::core::kernel {
namespace {

TEST(KernelFloor, MissingRequiredFeatureRefusesNamingTheKernel) {
  std::vector<Feature> f = {{"openat2 RESOLVE_IN_ROOT", "5.6", false, true, "paths are unsafe"},
                            {"overlay lowerdir+", "6.8", false, false, "fewer layers"}};
  auto s = check_floor(f, "5.4.0-1");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("5.4.0-1"), std::string::npos);
  EXPECT_NE(s.error().message.find("openat2 RESOLVE_IN_ROOT"), std::string::npos);
  EXPECT_NE(s.error().message.find("Linux >= 5.6"), std::string::npos);
}

TEST(KernelFloor, MissingOptionalFeaturesAreNotesNotRefusals) {
  std::vector<Feature> f = {{"openat2 RESOLVE_IN_ROOT", "5.6", true, true, "x"},
                            {"overlay lowerdir+", "6.8", false, false, "fewer layers"},
                            {"mount_setattr", "5.12", true, false, "y"}};
  EXPECT_TRUE(check_floor(f, "6.1.0"));
  auto notes = fallback_notes(f);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "overlay lowerdir+ (Linux >= 6.8) is missing: fewer layers");
}

TEST(KernelFloor, ThisKernelMeetsTheFloor) {
  // The CI host and the VM (Debian 12's 6.1) both do.
  auto features = probe();
  ASSERT_EQ(features.size(), 4u);
  EXPECT_TRUE(check_floor(features, "this"));
  EXPECT_TRUE(features[0].present);
}

}  // namespace
}  // namespace berth::core::kernel
