// IsolationBackend: runs containers from OCI runtime-spec JSON, in the OCI runtime's verbs
// (containerd's task API). Exits are reported to InitContext::task_exits as typed TaskExit
// values; stats are typed cgroup metrics (CgroupStats) that the host maps to Docker's wire
// format, so a backend never has to know it.
//
// What a backend class must provide: every pure virtual below, plus
//   static sdk::Result<std::unique_ptr<YourBackend>> create(const sdk::InitContext& ctx);
// registered with registrar.add_isolation<YourBackend>("name") (plugin.hpp). Run it through
// sdk::testing::run_isolation_conformance (testing/isolation_conformance.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/host.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk {

enum class TaskStatus { kCreated, kRunning, kPaused, kStopped };

std::string_view task_status_name(TaskStatus status);

struct TaskState {
  std::string id;
  TaskStatus status = TaskStatus::kCreated;
  int pid = 0;
  int exit_code = 0;
  bool oom_killed = false;
  int64_t started_at_unix_nano = 0;
  int64_t exited_at_unix_nano = 0;
};

// One process of a task ended: the container's (exec_id empty) or an exec's. Reported exactly
// once per process, also for exits that happened while the host was away (after list()).
struct TaskExit {
  std::string id;
  std::string exec_id;
  int pid = 0;
  int exit_code = 0;
  bool oom_killed = false;
  int64_t exited_at_unix_nano = 0;  // 0: the host uses the time it heard of the exit
};

// Where a backend reports exits; the host's container manager registers one. Called from any
// backend thread; must not block for long.
class TaskExitSink {
 public:
  virtual ~TaskExitSink() = default;
  virtual void task_exited(const TaskExit& exit) noexcept = 0;
};

// A task's cgroup metrics at one moment (what Docker's stats are made of). A group the cgroup
// does not report stays empty (std::nullopt); all of them for a task that is not running.
// Times in nanoseconds, sizes in bytes. Ordered lists keep the kernel's order.
struct CgroupStats {
  struct CpuUsage {
    uint64_t total = 0;
    uint64_t user = 0;    // usage in user mode
    uint64_t kernel = 0;  // usage in kernel mode
    std::optional<std::vector<uint64_t>> per_cpu;  // cgroup v1's cpuacct.usage_percpu
  };
  struct Cpu {
    std::optional<CpuUsage> usage;
    uint64_t system = 0;  // the host's total CPU time (/proc/stat), sampled with usage
    uint64_t online_cpus = 0;
    uint64_t throttling_periods = 0;
    uint64_t throttled_periods = 0;
    uint64_t throttled_time = 0;
  };
  struct Memory {
    uint64_t usage = 0;
    std::optional<uint64_t> max_usage;  // peak, when the kernel keeps it
    uint64_t limit = 0;                 // the host's memory when unlimited
    std::optional<uint64_t> failcnt;    // cgroup v1 only
    std::vector<std::pair<std::string, uint64_t>> stat;  // memory.stat, in file order
  };
  struct Pids {
    uint64_t current = 0;
    uint64_t limit = 0;  // 0: unlimited
  };
  struct BlkioEntry {
    uint64_t major = 0;
    uint64_t minor = 0;
    std::string op;  // "read", "write", "Read", "Total", ... as the cgroup names it
    uint64_t value = 0;
  };
  struct Blkio {
    std::vector<BlkioEntry> service_bytes;
    std::vector<BlkioEntry> serviced;
  };
  struct Network {
    std::string name;  // interface inside the container
    uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
    uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
  };
  std::optional<Cpu> cpu;
  std::optional<Memory> memory;
  std::optional<Pids> pids;
  std::optional<Blkio> blkio;
  std::vector<Network> networks;  // empty: none (or not running)
};

struct StdioSpec {
  bool terminal = false;
  bool stdin = false;       // keep a stdin pipe open for attach
  bool stdin_once = false;  // close a pipe stdin when the first attached client's input ends (a
                            // terminal's stays open, as dockerd keeps it)
};

struct LogSpec {
  std::string path;  // json-file log; empty: no log
  int64_t max_size = 0;  // bytes per file before rotation; 0: unbounded
  int max_files = 1;
};

struct CreateSpec {
  std::string bundle;     // directory owned by this task (config.json, sockets, state)
  std::string oci_json;   // OCI runtime spec; crosses the ABI as create's own argument
  std::vector<Mount> rootfs;  // from the storage driver; mounted by the backend on the rootfs
  StdioSpec stdio;
  LogSpec log;
  bool init = false;  // run a minimal zombie-reaping init as pid 1
};

struct ExecSpec {
  std::string process_json;  // OCI process
  StdioSpec stdio;
};

struct AttachOptions {
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
};

class IsolationBackend {
 public:
  virtual ~IsolationBackend() = default;

  virtual DriverInfo info() = 0;
  virtual Result<int> create(Context& ctx, std::string_view id, const CreateSpec& spec) = 0;
  // Starts the container's process (exec_id empty) or a created exec.
  virtual Status start(Context& ctx, std::string_view id, std::string_view exec_id) = 0;
  virtual Result<TaskState> state(Context& ctx, std::string_view id) = 0;
  virtual Status kill(Context& ctx, std::string_view id, int signal, bool all) = 0;
  virtual Status pause(Context& ctx, std::string_view id) = 0;
  virtual Status resume(Context& ctx, std::string_view id) = 0;
  // Creates an exec, held until start(id, exec_id); returns its pid.
  virtual Result<int> exec(Context& ctx, std::string_view id, std::string_view exec_id,
                           const ExecSpec& spec) = 0;
  // Returns an owned fd speaking Docker's attach protocol (see abi.h).
  virtual Result<int> attach(Context& ctx, std::string_view id, std::string_view exec_id,
                             const AttachOptions& options) = 0;
  virtual Status resize(Context& ctx, std::string_view id, std::string_view exec_id,
                        uint32_t rows, uint32_t cols) = 0;
  virtual Status update(Context& ctx, std::string_view id, std::string_view resources_json) = 0;
  virtual Result<CgroupStats> stats(Context& ctx, std::string_view id) = 0;
  virtual Result<std::vector<int>> pids(Context& ctx, std::string_view id) = 0;
  virtual Result<TaskState> remove(Context& ctx, std::string_view id) = 0;
  virtual Result<std::vector<TaskState>> list(Context& ctx) = 0;
};

}  // namespace berth::sdk
