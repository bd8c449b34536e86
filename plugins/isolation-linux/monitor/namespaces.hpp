// Linux namespaces, crun-style from a table: which OCI type maps to which CLONE_* flag and
// /proc/<pid>/ns entry, joining namespaces by path (setns) and creating new ones (unshare).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/sdk/result.hpp"
#include "common/oci_spec.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

struct NamespaceKind {
  std::string_view oci_type;   // "network"
  std::string_view proc_name;  // "net"
  int clone_flag;
};

// The known kinds, in the order namespaces are joined (user first: it changes what the others
// may do; mount last: it changes what paths mean).
const std::vector<NamespaceKind>& namespace_kinds();

// What the setup child does for the container's own process: namespaces given by path are
// opened up front (so a bad path fails before anything changed) and joined with setns; the rest
// are new. The mount namespace is always new unless joined by path: the container's mounts must
// never land in the host's namespace.
struct NamespacePlan {
  std::vector<std::pair<int, UniqueFd>> joins;  // clone flag, namespace fd
  int unshare_flags = 0;                        // new namespaces except pid and cgroup
  bool new_pid = false;                         // unshare before the fork: the child is pid 1
  bool new_cgroup = false;                      // unshared by the child once in its cgroup
  bool new_net = false;
  bool new_uts = false;
  // A new user namespace: created by an intermediate process (its maps are written from outside,
  // by a process still privileged in the parent namespace); every other new namespace is then
  // unshared from inside it, so the user namespace owns them.
  bool new_user = false;
};

sdk::Result<NamespacePlan> plan_namespaces(const OciSpec& spec);
// setns for every join, then (without a new user namespace) unshare the new ones.
sdk::Status enter_namespaces(NamespacePlan& plan);
// unshare(unshare_flags | (new_pid ? CLONE_NEWPID : 0)).
sdk::Status unshare_new_namespaces(const NamespacePlan& plan);
// "containerID hostID size" lines for /proc/<pid>/{uid,gid}_map.
std::string id_map_text(const std::vector<IdMapping>& mappings);

// Joins every namespace of process `pid` that differs from the caller's (an exec into a running
// container). Opens them all before joining any.
sdk::Status join_process_namespaces(pid_t pid);

// Brings the loopback interface of a fresh network namespace up.
sdk::Status bring_loopback_up();

}  // namespace berth::plugins::isolation
