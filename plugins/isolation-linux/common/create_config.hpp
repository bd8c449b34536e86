// create.json: everything the monitor's setup child needs to build the container, handed by the
// plugin to the monitor in a memfd. The plugin resolves what depends on the daemon (cgroup
// directories it created, the berth-init path); the OCI spec travels as it came, except for
// linux.seccomp: the plugin compiled it, and the program travels in a memfd of its own (a
// profile like Docker's is two thirds of the spec, parsed for nothing in every setup child).
//
// {"id","bundle","oci":{...},"rootfs":[mounts],"init":"<path or empty>","terminal":bool,
//  "cgroup":{"version":1|2,"procs":[cgroup.procs files],"dirs":[{"name","path"}] (v1),
//            "path":"<v2 dir>"}}
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <utility>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage_driver.hpp"
#include "common/oci_spec.hpp"

namespace berth::plugins::isolation {

struct CgroupPlacement {
  int version = 1;
  std::vector<std::string> procs_files;  // written with the container's pid, one per hierarchy
  // v1: hierarchy mount name ("memory", "cpu,cpuacct", "systemd") -> the task's directory there.
  std::vector<std::pair<std::string, std::string>> v1_dirs;
  std::string v2_dir;
};

struct CreateConfig {
  std::string id;
  std::string bundle;
  // in: the OCI spec as the plugin parsed it (once), linux.seccomp already removed; what
  // create_config_to_json embeds. Not filled by parsing (`spec` is).
  boost::json::value oci;
  OciSpec spec;
  std::vector<sdk::Mount> rootfs;
  std::string init_path;  // empty: no init
  bool terminal = false;
  CgroupPlacement cgroup;
};

std::string create_config_to_json(const CreateConfig& config);
sdk::Result<CreateConfig> create_config_from_json(std::string_view json);

}  // namespace berth::plugins::isolation
