// The plugin's section of daemon.json ("plugins": {"isolation.linux": {...}}). Unknown keys are
// refused, naming them.
//   cgroup-parent   parent of every container's cgroup when the spec has no cgroupsPath
//                   (default "berth": /sys/fs/cgroup/<controller>/berth/<id> on v1)
//   monitor-path    berth-monitor to run (default: ../berth-monitor next to this plugin's .so)
//   init-path       berth-init to bind at /dev/init (default: ../berth-init next to the .so)
//   cgroup-v2-root  use the cgroup v2 manager on this cgroup2 mount even on a v1 or hybrid host
//                   (diagnostics and tests; default: picked from /sys/fs/cgroup at startup)
//   cgroup-layout   cgroup v2 only: "auto" (default), "root" (containers at the top of the
//                   hierarchy) or "delegated" (under berthd's own cgroup, berthd moving into
//                   <own>/daemon); see plugin/cgroup_v2_layout.hpp
#pragma once

#include <string>
#include <string_view>

#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation {

struct Config {
  std::string cgroup_parent = "berth";
  std::string monitor_path;
  std::string init_path;
  std::string cgroup_v2_root;
  std::string cgroup_layout = "auto";
};

sdk::Result<Config> parse_config(std::string_view json);

}  // namespace berth::plugins::isolation
