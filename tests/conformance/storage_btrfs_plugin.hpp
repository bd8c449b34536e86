// Shared by the btrfs driver tests: storage.btrfs drivers created from berth-storage-btrfs.so,
// and the per-process btrfs filesystem on a loop device (made on first use, taken down at the end
// of the test program by a GoogleTest environment).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>

#include "tests/conformance/plugin_test_support.hpp"
#include "tests/support/btrfs_loop.hpp"

namespace berth::tests {

inline sdk::Result<std::unique_ptr<sdk::StorageDriver>> create_btrfs(
    const std::string& root_dir, const std::string& state_dir,
    const std::string& config_json = "{}", const std::string& driver_id = "storage.btrfs") {
  return create_storage_from_plugin(BERTH_BTRFS_PLUGIN_PATH, "storage.btrfs", root_dir, state_dir,
                                    config_json, driver_id);
}

// One loop-device filesystem per test program and per kind (plain btrfs, btrfs with quotas,
// ext4), made on first use and taken down when the program ends, failed tests or not.
class LoopFilesystems : public ::testing::Environment {
 public:
  enum Kind { kBtrfs = 0, kBtrfsQuotas = 1, kExt4 = 2 };

  static LoopFilesystems& instance() {
    static LoopFilesystems* env = [] {
      auto* e = new LoopFilesystems();
      ::testing::AddGlobalTestEnvironment(e);  // GoogleTest owns it and calls TearDown
      return e;
    }();
    return *env;
  }

  // The mount point, or why there is none (kUnsupported: the tests skip with it).
  sdk::Result<std::string> get(Kind kind) {
    std::lock_guard lock(mu_);
    Slot& slot = slots_[kind];
    if (!slot.tried) {
      slot.tried = true;
      testing::BtrfsLoopOptions options;
      options.quotas = kind == kBtrfsQuotas;
      options.filesystem = kind == kExt4 ? "ext4" : "btrfs";
      options.size_mib = 1024;
      auto made = testing::BtrfsLoop::create(options);
      if (made) {
        slot.fs = std::move(*made);
      } else {
        slot.error = made.error();
      }
    }
    if (!slot.fs) return slot.error;
    return slot.fs->mount_point();
  }

  void TearDown() override {
    std::lock_guard lock(mu_);
    for (auto& slot : slots_) {
      if (!slot.fs) continue;
      auto s = slot.fs->teardown();
      EXPECT_TRUE(s.has_value()) << "tear down " << slot.fs->device() << ": " << s.error().message;
      slot.fs.reset();
    }
  }

 private:
  struct Slot {
    bool tried = false;
    std::unique_ptr<testing::BtrfsLoop> fs;
    sdk::Error error;
  };
  std::mutex mu_;
  Slot slots_[3];
};

// Registered at static initialisation, so GoogleTest tears the filesystems down at the end.
[[maybe_unused]] static LoopFilesystems& kLoopFilesystemsRegistered = LoopFilesystems::instance();

}  // namespace berth::tests
