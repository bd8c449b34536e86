// IsolationBackend: runs containers from OCI runtime-spec JSON, in the OCI runtime's verbs
// (containerd's task API). Exits are reported through InitContext::events as "task-exit".
#pragma once

#include <cstdint>
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
  std::string oci_json;   // OCI runtime spec
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
  virtual Result<std::string> stats(Context& ctx, std::string_view id) = 0;
  virtual Result<std::vector<int>> pids(Context& ctx, std::string_view id) = 0;
  virtual Result<TaskState> remove(Context& ctx, std::string_view id) = 0;
  virtual Result<std::vector<TaskState>> list(Context& ctx) = 0;
};

}  // namespace berth::sdk
