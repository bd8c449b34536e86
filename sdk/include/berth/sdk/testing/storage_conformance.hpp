// The storage driver conformance suite: containerd's snapshotter test suite
// (core/snapshots/testsuite) in GoogleTest, run by every storage driver vendor against its own
// driver. It mounts what the driver returns (berth::sdk::mount_all) and checks real files, so it
// needs root; without root every case is skipped with the reason.
//
// Instantiate it once in a test executable linked with berth::sdk_testing (and GTest::gtest_main):
//
//   BERTH_STORAGE_CONFORMANCE(ZfsConformance, []() -> berth::sdk::testing::StorageFixture {
//     berth::sdk::testing::StorageFixture f;
//     f.create = [](const berth::sdk::testing::StorageDirs& dirs)
//         -> berth::sdk::Result<std::unique_ptr<berth::sdk::StorageDriver>> {
//       return ZfsDriver::create_on(dirs.root_dir);  // or load the .so with sdk::host
//     };
//     return f;
//   });
//
// which registers the cases as ZfsConformance.PrepareMountWriteCommit and so on
// (storage_conformance_cases() lists them). Every case runs in a fresh temporary tree, creates a
// driver on it (some cases destroy it and create another on the same directories, as a daemon
// restart would), and removes the tree at the end with everything mounted in it, even when the
// case fails; the tear-down also fails a case that leaves a mount behind.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk::testing {

// The directories a driver instance is created on. The suite owns them: a fresh temporary tree per
// case, passed again unchanged when the driver is re-created.
struct StorageDirs {
  std::string root_dir;   // persistent: must survive a re-creation
  std::string state_dir;  // volatile
};

struct StorageFixture {
  // Required. Creates a driver on `dirs`; called at the start of each case and again, on the same
  // directories, after the previous instance was destroyed. A kUnsupported error skips the case
  // with the error message as the reason ("btrfs: /tmp is not a btrfs filesystem").
  std::function<Result<std::unique_ptr<StorageDriver>>(const StorageDirs& dirs)> create;
  // Where the per-case trees are made; empty: $TMPDIR, else /tmp. A driver that needs a particular
  // backing filesystem points this at one.
  std::string temp_parent;
  // Cases this driver does not claim to pass: case name ("ManyLayersStacked") -> reason shown
  // when it is skipped.
  std::map<std::string, std::string, std::less<>> skip;
  // Number of layers ManyLayersStacked stacks (containerd's limit for an image is 128).
  int many_layers = 128;
};

using StorageFixtureFactory = std::function<StorageFixture()>;

// Registers every case under `suite_name`; the factory is called once per case. Returns true so
// that the macro can run it at static initialisation (before RUN_ALL_TESTS, as GoogleTest
// requires).
bool register_storage_conformance(const char* suite_name, StorageFixtureFactory factory,
                                  const char* file, int line);

// The names of the cases, in registration order.
std::vector<std::string> storage_conformance_cases();

}  // namespace berth::sdk::testing

// The lambda goes through __VA_ARGS__ because its body may contain commas.
#define BERTH_STORAGE_CONFORMANCE(SuiteName, ...)                                            \
  [[maybe_unused]] static const bool berth_storage_conformance_registered_##SuiteName =      \
      ::berth::sdk::testing::register_storage_conformance(#SuiteName, __VA_ARGS__, __FILE__, \
                                                          __LINE__)
