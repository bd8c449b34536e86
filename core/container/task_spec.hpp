// The pure step of a start: a container record becomes what the isolation backend is asked to
// create (network placement, the OCI spec, stdio, init, logging). Everything that touches the
// host (the etc files, the storage driver's mounts, volumes) happens around it, in the manager;
// this part is tested without a kernel.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "berth/sdk/isolation_backend.hpp"
#include "core/common/result.hpp"
#include "core/config/daemon_config.hpp"
#include "core/container/container.hpp"
#include "core/container/oci_spec.hpp"

namespace berth::core::container {

// Where the task's network comes from. `lookup` answers a container's full id and the pid of
// its task (0 when it is not running) by name or id, kNotFound when there is no such container.
struct NetworkPlacement {
  bool host = false;        // --network host
  std::string netns_path;   // --network container:X: join X's namespace
  std::string network;      // a network berthd manages ("bridge", "host", a user network): joined at start
};
Result<NetworkPlacement> network_placement(
    const boost::json::object& host_config,
    const std::function<Result<std::pair<std::string, int>>(const std::string&)>& lookup);

struct TaskInputs {
  SpecContext spec;                   // network placement, cgroup flavour, remap
  std::vector<sdk::Mount> rootfs;     // from the storage driver
  std::string bundle;                 // the task's directory
  config::LogOpts daemon_log;         // daemon.json's log-opts (the container's override them)
};

Result<sdk::CreateSpec> build_task_spec(const ContainerRecord& rec, TaskInputs in);

}  // namespace berth::core::container
