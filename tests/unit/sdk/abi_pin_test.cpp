// Pins abi.h: the binary contract may only change together with its version (version.h).
// When this fails: an append-only change (new fields or function pointers at the end of a
// size-prefixed struct, new error codes) bumps BERTH_SDK_ABI_MINOR; anything else bumps
// BERTH_SDK_ABI_MAJOR. Then add the new version and the hash printed below to kPins. Never edit
// an existing entry: a released ABI is immutable.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "berth/sdk/version.h"
#include "core/common/fs.hpp"
#include "core/common/sha256.hpp"

namespace {

const std::map<std::string, std::string> kPins = {
    {"1.0", "sha256:e508e0e6ff53f9c8255ccbe468769070e7694b4593f4950a9b6f43de509f898d"},
    {"2.0", "sha256:d0a4f310d6b9f0484fc2a00bdfdf62565b1d2a956b4e28e5f4370ed88132f1b6"},
    {"2.1", "sha256:2dd2783cf2af3b5ba12865a049b0116162caf96119e00ab4ce512c74d917364f"},
};

TEST(AbiPin, AbiHeaderMatchesItsVersion) {
  auto text = berth::fs::read_file(BERTH_ABI_HEADER);
  ASSERT_TRUE(text) << text.error().message;
  std::string version =
      std::to_string(BERTH_SDK_ABI_MAJOR) + "." + std::to_string(BERTH_SDK_ABI_MINOR);
  std::string hash = berth::Sha256::of(*text);
  auto it = kPins.find(version);
  ASSERT_NE(it, kPins.end()) << "ABI " << version << " has no pinned hash; add {\"" << version
                             << "\", \"" << hash << "\"}";
  EXPECT_EQ(hash, it->second) << "abi.h changed but BERTH_SDK_ABI_MAJOR/MINOR (" << version
                              << ") did not: bump the version, then pin " << hash;
}

}  // namespace
