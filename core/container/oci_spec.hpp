// Policy to mechanism: a container's Config and HostConfig become an OCI runtime spec with
// Docker's defaults (capabilities, masked and read-only paths, /dev, /proc, /sys mounts, shm,
// seccomp profile, resources). The isolation backend applies it; it decides nothing itself.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "core/common/result.hpp"
#include "core/config/userns_remap.hpp"
#include "core/container/container.hpp"
#include "core/container/user_lookup.hpp"

namespace berth::core::container {

struct SpecContext {
  std::string netns_path;  // join this network namespace (container:<id> mode); empty: own or host
  bool host_network = false;
  bool cgroup_v2 = false;
  bool swap_accounting = true;  // memory+swap limits can be set
  // A user namespace whose root is this remap's first host id (--userns-remap), or none.
  const config::UsernsRemap* userns_remap = nullptr;
};

Result<boost::json::object> build_oci_spec(const ContainerRecord& c, const SpecContext& ctx);

// The spec of an exec's process (docker exec): the container's env plus the exec's, run as
// `user` (resolved by the caller in the running container's /etc/passwd).
Result<boost::json::object> build_exec_process(const ContainerRecord& c,
                                               const boost::json::object& exec_config,
                                               const ResolvedUser& user);

// OCI linux.resources from a HostConfig (for create and for docker update).
boost::json::object build_resources(const boost::json::object& host_config, const SpecContext& ctx);

// Docker's default masked and read-only paths.
const std::vector<std::string>& default_masked_paths();
const std::vector<std::string>& default_readonly_paths();

}  // namespace berth::core::container
