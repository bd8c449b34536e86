// The isolation backend (driver id "isolation.linux"): containers as Linux namespaces, cgroups
// (v1 or v2, picked at startup), capabilities and seccomp, each run by its own berth-monitor.
//
// The plugin is the monitors' client. Per task it keeps a directory <state_dir>/tasks/<id>
// (common/protocol.hpp) and nothing it could not rebuild from there, so a new instance on the
// same state directory (berthd restarted) re-adopts every task: list() reports them, their exits
// that happened meanwhile included, and task-exit events flow again for exits seen after that.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/host.hpp"
#include "berth/sdk/isolation_backend.hpp"
#include "plugin/cgroup_manager.hpp"
#include "plugin/config.hpp"
#include "plugin/exit_watcher.hpp"
#include "plugin/monitor_launcher.hpp"
#include "plugin/seccomp_compiler.hpp"

namespace berth::plugins::isolation {

class LinuxBackend final : public sdk::IsolationBackend {
 public:
  static sdk::Result<std::unique_ptr<LinuxBackend>> create(const sdk::InitContext& ctx);
  ~LinuxBackend() override;

  sdk::DriverInfo info() override;
  sdk::Result<int> create(sdk::Context& ctx, std::string_view id,
                          const sdk::CreateSpec& spec) override;
  sdk::Status start(sdk::Context& ctx, std::string_view id, std::string_view exec_id) override;
  sdk::Result<sdk::TaskState> state(sdk::Context& ctx, std::string_view id) override;
  sdk::Status kill(sdk::Context& ctx, std::string_view id, int signal, bool all) override;
  sdk::Status pause(sdk::Context& ctx, std::string_view id) override;
  sdk::Status resume(sdk::Context& ctx, std::string_view id) override;
  sdk::Result<int> exec(sdk::Context& ctx, std::string_view id, std::string_view exec_id,
                        const sdk::ExecSpec& spec) override;
  sdk::Result<int> attach(sdk::Context& ctx, std::string_view id, std::string_view exec_id,
                          const sdk::AttachOptions& options) override;
  sdk::Status resize(sdk::Context& ctx, std::string_view id, std::string_view exec_id,
                     uint32_t rows, uint32_t cols) override;
  sdk::Status update(sdk::Context& ctx, std::string_view id,
                     std::string_view resources_json) override;
  sdk::Result<sdk::CgroupStats> stats(sdk::Context& ctx, std::string_view id) override;
  sdk::Result<std::vector<int>> pids(sdk::Context& ctx, std::string_view id) override;
  sdk::Result<sdk::TaskState> remove(sdk::Context& ctx, std::string_view id) override;
  sdk::Result<std::vector<sdk::TaskState>> list(sdk::Context& ctx) override;

  // What the plugin records per task (task.json).
  struct TaskRecord {
    std::string id;
    std::string bundle;
    std::string cgroup;  // relative path in the hierarchies
    int pid = 0;
    int monitor_pid = 0;
    uint64_t monitor_start_time = 0;
    bool terminal = false;
    bool pid_namespace = true;
    int64_t created_at = 0;
    bool creating = false;  // written before the monitor starts, cleared once create succeeded
  };

 private:
  LinuxBackend(Config config, std::string state_dir, std::string monitor_path,
               std::string init_path, std::unique_ptr<CgroupManager> cgroups, sdk::Logger* log,
               sdk::TaskExitSink* exits);

  [[nodiscard]] std::string tasks_dir() const;
  [[nodiscard]] std::string task_dir(std::string_view id) const;
  sdk::Result<TaskRecord> load(std::string_view id) const;
  sdk::Result<sdk::TaskState> state_of(const TaskRecord& record) const;
  sdk::Status require_running(const TaskRecord& record, std::string_view verb) const;
  // Everything of a task that exists, in reverse: monitor, cgroups, created parents, directory.
  void destroy(const std::string& id, const std::string& cgroup, int monitor_pid,
               uint64_t monitor_start_time);
  void release_parents(const std::string& cgroup);
  void record_parents(const std::vector<std::string>& created, const std::string& task_cgroup);
  void adopt();
  // A task whose create never finished (berthd died in the middle): end it and free everything.
  void cleanup_half_created(const TaskRecord& record);
  void on_monitor_lost(const std::string& id);

  Config config_;
  std::string state_dir_;
  std::string monitor_path_;
  std::string init_path_;
  std::unique_ptr<CgroupManager> cgroups_;
  sdk::Logger* log_;
  sdk::TaskExitSink* exits_;
  std::unique_ptr<ExitWatcher> watcher_;
  MonitorLauncher launcher_;
  std::mutex parents_mu_;  // cgroup parent creation/removal and their record
  SeccompCache seccomp_cache_;
};

}  // namespace berth::plugins::isolation
