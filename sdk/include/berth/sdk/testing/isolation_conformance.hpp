// The isolation backend conformance suite: what the core relies on from any IsolationBackend
// (containerd's task semantics as abi.h states them), in GoogleTest, run by every backend vendor
// against its own backend, best through the loaded .so (sdk::host::load_plugin +
// create_isolation), exactly as berthd uses it. Cases: create/start and exit codes, output through
// attach, kill and signals, pause/resume, exec, pty resize, the shape of stats, re-adoption of
// running tasks by a new instance (the host restarted), and cleanup: after remove, no process,
// mount or cgroup of the task is left. It runs real containers, so it needs root; without root
// every case is skipped with the reason.
//
// Instantiate it once in a test executable linked with berth::sdk_testing (and GTest::gtest_main):
//
//   BERTH_ISOLATION_CONFORMANCE(KrunConformance, []() -> berth::sdk::testing::IsolationFixture {
//     berth::sdk::testing::IsolationFixture f;
//     f.rootfs = "/var/lib/krun-tests/busybox";  // /bin/sh, sleep, stty, cat, echo, ...
//     f.create = [](const berth::sdk::testing::IsolationDirs& dirs, berth::sdk::TaskExitSink* exits)
//         -> berth::sdk::Result<std::unique_ptr<berth::sdk::IsolationBackend>> {
//       ...  // load the plugin, sdk::host::create_isolation(def, init with dirs and exits)
//     };
//     return f;
//   });
//
// which registers the cases as KrunConformance.ExitCodeIsReported and so on
// (isolation_conformance_cases() lists them). Every case runs in a fresh temporary tree (the
// backend's root and state directories, the tasks' bundles), and at the end kills and removes
// whatever task is left, then fails the case if any process, mount or cgroup of its tasks
// remains.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "berth/sdk/isolation_backend.hpp"
#include "berth/sdk/result.hpp"

namespace berth::sdk::testing {

// The directories a backend instance is created on; a fresh temporary tree per case, passed again
// unchanged when the backend is re-created (the host restarting).
struct IsolationDirs {
  std::string root_dir;   // persistent
  std::string state_dir;  // volatile: where a backend keeps what lets it re-adopt its tasks
};

struct IsolationFixture {
  // Required. Creates a backend on `dirs` that reports task exits to `exits`. Called at the start
  // of each case and again on the same directories after the previous instance was destroyed.
  // A kUnsupported error skips the case with the message as the reason.
  std::function<Result<std::unique_ptr<IsolationBackend>>(const IsolationDirs& dirs,
                                                          TaskExitSink* exits)>
      create;
  // Required. A root filesystem directory with busybox (/bin/sh, sleep, stty, cat, echo, hostname);
  // tests/images/make-busybox-rootfs.sh makes one. Tasks get it as an rbind mount and never write
  // to it.
  std::string rootfs;
  // Where the per-case trees are made; empty: $TMPDIR, else /tmp.
  std::string temp_parent;
  // Cases this backend does not claim to pass: case name -> reason shown when it is skipped.
  std::map<std::string, std::string, std::less<>> skip;
  // Optional: what the backend left behind after a case, in its own terms (a cgroup parent, a
  // VM); each entry fails the case. The suite itself checks processes, mounts and cgroups of the
  // tasks it made.
  std::function<std::vector<std::string>(const IsolationDirs& dirs)> leftovers;
};

using IsolationFixtureFactory = std::function<IsolationFixture()>;

// Registers every case under `suite_name`; the factory is called once per case.
bool register_isolation_conformance(const char* suite_name, IsolationFixtureFactory factory,
                                    const char* file, int line);

// The names of the cases, in registration order.
std::vector<std::string> isolation_conformance_cases();

}  // namespace berth::sdk::testing

#define BERTH_ISOLATION_CONFORMANCE(SuiteName, ...)                                            \
  [[maybe_unused]] static const bool berth_isolation_conformance_registered_##SuiteName =      \
      ::berth::sdk::testing::register_isolation_conformance(#SuiteName, __VA_ARGS__, __FILE__, \
                                                            __LINE__)
