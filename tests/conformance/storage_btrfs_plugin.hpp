// Shared by the btrfs driver tests: loads berth-storage-btrfs.so once, as berthd would, creates
// drivers from it through the C ABI, and owns the per-process btrfs filesystem on a loop device
// (made on first use, taken down at the end of the test program by a GoogleTest environment).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "berth/sdk/host/plugin_library.hpp"
#include "tests/support/btrfs_loop.hpp"

namespace berth::tests {

// Prints warnings and errors to stderr; BERTH_TEST_LOG=debug shows everything.
class BtrfsTestLogger final : public sdk::Logger {
 public:
  BtrfsTestLogger() {
    const char* env = std::getenv("BERTH_TEST_LOG");
    if (env != nullptr && std::string(env) == "debug") threshold_ = sdk::LogLevel::kTrace;
  }
  [[nodiscard]] bool enabled(sdk::LogLevel level) const noexcept override {
    return level >= threshold_;
  }
  void write(sdk::LogLevel level, std::string_view message, const sdk::Field* fields,
             size_t count) noexcept override {
    std::string line = "[storage.btrfs " + std::to_string(static_cast<int>(level)) + "] ";
    line += message;
    for (size_t i = 0; i < count; ++i) {
      line += " ";
      line += fields[i].key;
      line += "=";
      line += fields[i].value;
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

 private:
  sdk::LogLevel threshold_ = sdk::LogLevel::kWarn;
};

inline BtrfsTestLogger& btrfs_test_logger() {
  static BtrfsTestLogger logger;
  return logger;
}

// The "storage.btrfs" definition from the plugin, or the reason it could not be loaded.
inline sdk::Result<sdk::host::DriverDef> btrfs_driver_def() {
  static const sdk::host::PluginFile file = sdk::host::load_plugin(BERTH_BTRFS_PLUGIN_PATH);
  if (file.outcome != sdk::host::LoadOutcome::kLoaded) {
    return sdk::make_error(sdk::ErrorCode::kInternal,
                           "load " + file.path.string() + ": " + file.reason);
  }
  for (const auto& def : file.drivers) {
    if (def.id() == "storage.btrfs") return def;
  }
  return sdk::make_error(sdk::ErrorCode::kInternal,
                         file.path.string() + " registers no storage.btrfs driver");
}

inline sdk::Result<std::unique_ptr<sdk::StorageDriver>> create_btrfs(
    const std::string& root_dir, const std::string& state_dir,
    const std::string& config_json = "{}", const std::string& driver_id = "storage.btrfs") {
  auto def = btrfs_driver_def();
  if (!def) return std::move(def).error();
  sdk::host::HostInit init;
  init.driver_id = driver_id;
  init.config_json = config_json;
  init.root_dir = root_dir;
  init.state_dir = state_dir;
  init.core_version = "test";
  init.log = &btrfs_test_logger();
  return sdk::host::create_storage(*def, init);
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
