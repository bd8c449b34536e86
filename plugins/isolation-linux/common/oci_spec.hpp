// The parts of an OCI runtime-spec config this backend honours, parsed into plain structs. Used
// by the plugin (validation before anything is created, cgroup resources) and by the monitor's
// setup children (everything else). Anything malformed is kInvalidArgument naming the field:
// "oci spec: process.args: must be a non-empty array of strings".
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::plugins::isolation {

struct OciMount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Rlimit {
  int resource = 0;
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct OciUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::optional<uint32_t> umask;
  // Not Linux OCI: a user string ("app", "1000:1000", "app:0") to resolve against the container's
  // /etc/passwd and /etc/group, as org.berth.user does for the container's own process.
  std::string username;
};

// Capability numbers (CAP_*), per set. A set missing from the spec is empty.
struct CapSets {
  std::vector<int> bounding, effective, permitted, inheritable, ambient;
};

struct OciProcess {
  bool terminal = false;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  OciUser user;
  CapSets caps;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
};

struct OciNamespace {
  std::string type;  // pid network ipc uts mount cgroup user time
  std::string path;  // empty: a new namespace
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct OciDevice {
  std::string path;
  char type = 'c';  // c, b, u (= c), p
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

// linux.resources.devices: the v1 devices cgroup's allow/deny list.
struct DeviceRule {
  bool allow = false;
  char type = 'a';
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::string access = "rwm";
};

// linux.resources. Unset fields are left alone (update) or at the kernel default (create).
struct Resources {
  std::optional<int64_t> memory_limit;
  std::optional<int64_t> memory_swap;  // memory + swap, -1 unlimited
  std::optional<int64_t> memory_reservation;
  std::optional<uint64_t> memory_swappiness;  // v1 only
  bool disable_oom_killer = false;            // v1 only
  std::optional<uint64_t> cpu_shares;
  std::optional<int64_t> cpu_quota;
  std::optional<uint64_t> cpu_period;
  std::string cpus;
  std::string mems;
  std::optional<int64_t> pids_limit;  // <= 0 unlimited
  std::optional<uint16_t> blkio_weight;
  std::vector<DeviceRule> devices;
};

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_*
};

struct SeccompRule {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct SeccompSpec {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<SeccompRule> syscalls;
};

struct OciSpec {
  OciProcess process;
  std::string root_path = "rootfs";
  bool root_readonly = false;
  std::string hostname;
  std::string domainname;
  std::vector<OciMount> mounts;
  std::vector<OciNamespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<OciDevice> devices;
  std::string cgroups_path;
  Resources resources;
  std::vector<std::pair<std::string, std::string>> sysctl;
  std::optional<SeccompSpec> seccomp;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string rootfs_propagation;
  std::map<std::string, std::string> annotations;

  [[nodiscard]] const OciNamespace* find_namespace(std::string_view type) const;
};

sdk::Result<OciSpec> parse_spec(std::string_view json);
sdk::Result<OciSpec> parse_spec(const boost::json::value& value);
sdk::Result<OciProcess> parse_process(std::string_view json);
sdk::Result<OciProcess> parse_process(const boost::json::value& value);
sdk::Result<Resources> parse_resources(std::string_view json);
sdk::Result<Resources> parse_resources(const boost::json::value& value);

// Storage mounts ({"type","source","target","options"}) to and from JSON.
boost::json::value mounts_to_json(const std::vector<sdk::Mount>& mounts);
sdk::Result<std::vector<sdk::Mount>> mounts_from_json(const boost::json::value& value);

// CAP_* names <-> numbers ("CAP_SYS_ADMIN" <-> 21); -1 when unknown.
int capability_number(std::string_view name);
std::string_view capability_name(int number);
inline constexpr int kMaxKnownCapability = 40;  // CAP_CHECKPOINT_RESTORE
// RLIMIT_* names -> resource numbers; -1 when unknown.
int rlimit_number(std::string_view name);

}  // namespace berth::plugins::isolation
