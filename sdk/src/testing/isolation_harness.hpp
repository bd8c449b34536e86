// The isolation conformance suite's fixture and helpers (internal to sdk/src/testing): the
// per-case tree, the backend instance, an exit log, OCI specs, attach stream readers, and the
// leak checks (processes, mounts, cgroups of the tasks a case made).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/sdk/isolation_backend.hpp"
#include "berth/sdk/testing/attach_stream.hpp"
#include "berth/sdk/testing/fs.hpp"
#include "berth/sdk/testing/isolation_conformance.hpp"

namespace berth::sdk::testing::isolation_suite {

using namespace std::chrono_literals;

// Every exit the backend reported, in order.
class ExitLog final : public TaskExitSink {
 public:
  void task_exited(const TaskExit& exit) noexcept override;
  // The first exit of (id, exec_id), waiting up to `timeout` for it.
  std::optional<TaskExit> wait(const std::string& id, const std::string& exec_id = "",
                               std::chrono::milliseconds timeout = 20s);
  int count(const std::string& id, const std::string& exec_id = "");

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TaskExit> exits_;
};

// What a task runs: a busybox command line in a Docker-like OCI spec (runc's conventions).
struct SpecOptions {
  std::vector<std::string> args;
  bool terminal = false;
  std::string hostname = "conformance";
  std::string resources_json = "{}";  // linux.resources
};
SpecOptions sh(const std::string& script);
std::string spec_json(const SpecOptions& options);
std::string process_json(const SpecOptions& options);

// Attach stream readers (berth/sdk/testing/attach_stream.hpp).
using testing::Output;
using testing::read_stream;
using testing::read_until;

struct Registration {
  IsolationFixtureFactory factory;
};

class Harness;
using CaseFn = void (*)(Harness&);

class Harness : public ::testing::Test {
 public:
  Harness(std::shared_ptr<const Registration> registration, CaseFn fn)
      : registration_(std::move(registration)), fn_(fn) {}

  IsolationBackend& backend() { return *backend_; }
  Context& ctx() { return ctx_; }
  ExitLog& exits() { return exits_; }

  // A bundle for `id` in the case's tree, the fixture's rootfs as an rbind mount.
  CreateSpec create_spec(const std::string& id, const SpecOptions& options);
  // create, and the task's pid and cgroups remembered for the leak checks.
  Result<int> create(const std::string& id, const SpecOptions& options, StdioSpec stdio = {});
  // exec (held until start), its pid remembered likewise.
  Result<int> exec(const std::string& id, const std::string& exec_id, const SpecOptions& options,
                   StdioSpec stdio = {});
  // An attach stream of the task or exec (stdout and stderr, stdin when `in`); -1 on failure.
  int attach(const std::string& id, const std::string& exec_id = "", bool in = false);
  // create + attach + start: the whole output and the exit.
  struct Run {
    Output output;
    std::optional<TaskExit> exit;
  };
  Run run(const std::string& id, const SpecOptions& options);
  // Kills (SIGKILL), waits for the exit and removes: a task the case is done with.
  void finish(const std::string& id);
  // Destroys the backend instance and creates another on the same directories.
  void recreate();
  // Leaks of the tasks made so far: live processes, cgroup directories, mounts in the tree.
  std::vector<std::string> leaks();

 protected:
  void SetUp() override;
  void TearDown() override;
  void TestBody() override { fn_(*this); }

 private:
  std::shared_ptr<const Registration> registration_;
  CaseFn fn_;
  IsolationFixture fixture_;
  TempDir temp_;
  IsolationDirs dirs_;
  Context ctx_{"conformance"};
  ExitLog exits_;
  std::unique_ptr<IsolationBackend> backend_;
  std::set<int> pids_;
  std::set<std::string> cgroup_dirs_;
};

}  // namespace berth::sdk::testing::isolation_suite
