// Cgroup managers, v1 and v2 behind one interface (crun's libcrun_cgroup_manager): create a task's
// cgroup with its resources, update them, freeze and thaw, list and signal its processes, read
// its statistics, and destroy it. `rel` is the task's path relative to each hierarchy's root
// ("berth/3f2a...").
//
// A manager only ever removes directories it created: the task's own, and parents recorded by
// create() in `created` (the backend keeps that record so the shared parent disappears with the
// last container, and a pre-existing parent is never touched).
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/isolation_backend.hpp"
#include "berth/sdk/result.hpp"
#include "common/create_config.hpp"
#include "common/oci_spec.hpp"

namespace berth::plugins::isolation {

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  [[nodiscard]] virtual int version() const = 0;
  // Creates `rel` (and missing parents, appended to `created` as absolute directories), then
  // applies `resources`. On failure everything created here is removed again.
  virtual sdk::Status create(const std::string& rel, const Resources& resources,
                             std::vector<std::string>& created) = 0;
  virtual sdk::Status update(const std::string& rel, const Resources& resources) = 0;
  // Kills what is left in the task's cgroup and removes its directories.
  virtual sdk::Status destroy(const std::string& rel) = 0;
  virtual sdk::Status freeze(const std::string& rel) = 0;
  virtual sdk::Status thaw(const std::string& rel) = 0;
  virtual sdk::Result<bool> frozen(const std::string& rel) = 0;
  virtual sdk::Result<std::vector<int>> pids(const std::string& rel) = 0;
  virtual sdk::Status kill_all(const std::string& rel, int signal) = 0;
  // The cgroup's metrics, typed (the host maps them to Docker's stats); networks are not here.
  virtual sdk::Result<sdk::CgroupStats> stats(const std::string& rel) = 0;
  // What the monitor's setup child needs to place a process in the task's cgroup.
  [[nodiscard]] virtual CgroupPlacement placement(const std::string& rel) const = 0;
  // For the monitor: a cgroup.procs file, cgroup.kill (v2), the file holding "oom_kill N".
  [[nodiscard]] virtual std::string procs_file(const std::string& rel) const = 0;
  [[nodiscard]] virtual std::string kill_file(const std::string& rel) const = 0;
  [[nodiscard]] virtual std::string oom_file(const std::string& rel) const = 0;
};

// v2 when /sys/fs/cgroup is a cgroup2 mount (or `v2_root` is given), else v1 over every mounted
// hierarchy. kUnsupported when neither is usable. On v2, `v2_layout` ("auto", "root",
// "delegated": cgroup_v2_layout.hpp) places the containers; `notes` gets lines for the log.
sdk::Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& v2_root,
                                                                 std::string_view v2_layout,
                                                                 std::vector<std::string>& notes);

// Removes `dir` when it is an empty cgroup; false when it still holds children or processes.
bool remove_cgroup_dir_if_empty(const std::string& dir);

}  // namespace berth::plugins::isolation
