#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "cli/app/flags.hpp"

namespace berth::cli {

// Every flag `run` and `create` share (docker's containerOptions), parsed into the
// POST /containers/create body.
struct ContainerOptions {
  bool interactive = false, tty = false, privileged = false, read_only = false, init = false;
  bool publish_all = false, auto_remove = false, oom_kill_disable = false;
  std::vector<std::string> attach, env, env_file, labels, label_file, volumes, mounts, tmpfs;
  std::vector<std::string> cap_add, cap_drop, security_opt, ulimits, publish, expose, dns;
  std::vector<std::string> dns_search, dns_option, add_host, log_opt, group_add, devices;
  std::vector<std::string> volumes_from, network_alias, sysctls, storage_opt, links;
  std::string workdir, user, name, entrypoint, hostname, domainname, restart = "no";
  std::string network, memory, memory_swap, memory_reservation, shm_size, cpuset_cpus;
  std::string cpuset_mems, stop_signal, log_driver, ipc, pid, uts, userns, cgroupns;
  std::string cgroup_parent, runtime, platform, mac_address, ip, ip6, volume_driver;
  std::string pull = "missing", isolation, health_cmd, health_interval, health_timeout;
  std::string health_start_period, health_start_interval, cidfile;
  double cpus = 0;
  long long cpu_shares = 0, pids_limit = 0, stop_timeout = 0, cpu_period = 0, cpu_quota = 0;
  long long memory_swappiness = -1, oom_score_adj = 0, blkio_weight = 0, health_retries = 0;
  bool no_healthcheck = false;
  bool stop_timeout_set = false;
};

// Adds the shared flags to a command's flag set (`run` adds -d, --rm, --sig-proxy, ...).
void add_container_flags(FlagSet& flags, ContainerOptions& o);

struct CreateRequest {
  boost::json::object body;  // Config + HostConfig + NetworkingConfig
  std::string image;
  std::string name;
};

// Builds the create body from options, the image and the command. `flags` tells which options
// were given explicitly. Throws StatusError (exit 125) on invalid values, with docker's words.
CreateRequest build_create_request(const ContainerOptions& o, const FlagSet& flags,
                                   const std::vector<std::string>& args, bool detach,
                                   unsigned rows, unsigned cols);

// -p parsing: "ip:host:container/proto" forms, ranges. Appends to exposed and bindings.
void parse_publish(const std::string& spec, boost::json::object& exposed,
                   boost::json::object& bindings);
// --mount csv parsing into an API Mount object.
boost::json::object parse_mount(const std::string& spec);

}  // namespace berth::cli
