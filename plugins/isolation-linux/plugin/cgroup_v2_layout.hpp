// Where berthd puts containers on a cgroup v2 (unified) host, and which controllers it enables
// where: pure policy, no I/O, so every host shape is unit-tested without root.
//
// Two layouts:
//   root       containers under /<cgroup-parent>/<id> at the top of the hierarchy, beside
//              systemd's slices (dockerd's cgroupfs driver does the same). The real root cgroup is
//              exempt from the no-internal-process rule, so enabling controllers there never
//              needs a process to move. Chosen when berthd sees the real root and may write it;
//              containers then survive `systemctl restart berthd` (systemd <= 257 refuses to start
//              a unit whose own cgroup hands controllers down while old children still run).
//   delegated  containers under berthd's own cgroup (a systemd unit with Delegate=yes, a cgroup
//              namespace in a container, a user's delegated subtree). That cgroup can only hand
//              controllers down once it holds no process, so berthd first moves itself into a
//              leaf `<own>/daemon` (what containerd and podman do), then enables controllers in
//              `<own>` and below. Chosen when the top is not the real root or is read-only to
//              berthd, or by `cgroup-layout: delegated`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation::cgroup_v2 {

// What berthd enables along its path for the resource limits it offers.
const std::vector<std::string>& wanted_controllers();

// "0::/system.slice/berthd.service" (the v2 line of /proc/self/cgroup) -> "/system.slice/...".
sdk::Result<std::string> own_cgroup_from_proc(std::string_view proc_self_cgroup);

enum class LayoutMode { kAuto, kRoot, kDelegated };
// daemon.json "cgroup-layout": "auto" (or empty), "root", "delegated".
sdk::Result<LayoutMode> parse_layout_mode(std::string_view text);

// What berthd observed about the cgroup2 mount it uses.
struct HostView {
  std::string own;               // berthd's cgroup relative to the mount's top: "/" or "/a/b"
  bool top_is_host_root = true;  // the top has no cgroup.type: the real root cgroup
  bool top_writable = true;      // the top's cgroup.subtree_control is writable by berthd
};

struct Layout {
  bool delegated = false;
  // Relative to the mount's top, no leading '/': where task paths start ("" for the root
  // layout, "system.slice/berthd.service" when delegated).
  std::string base;
  // Relative to the top: the leaf berthd moves itself into first (delegated only, else "").
  std::string daemon_leaf;
  std::string reason;  // one line for the log: which layout and why
};

sdk::Result<Layout> plan_layout(const HostView& host, LayoutMode mode);

// The directories (relative to the top, "" is the top itself) whose cgroup.subtree_control must
// carry a controller so the task directory `base/task_rel` gets it: from the base down to the
// task's parent. The root layout starts at the top; the delegated one never goes above its base.
std::vector<std::string> enabling_chain(const Layout& layout, const std::string& task_rel);

// The controllers of `wanted` offered in `available` (a cgroup.controllers line) and not yet in
// `enabled` (a cgroup.subtree_control line), each as "+name".
std::vector<std::string> controllers_to_enable(std::string_view available,
                                               std::string_view enabled,
                                               const std::vector<std::string>& wanted);

// Why a controller could not be had at some directory of the chain.
enum class MissingCause {
  kNotOffered,         // the directory's parent does not hand it down (cgroup.controllers)
  kInternalProcesses,  // the directory holds processes of its own (EBUSY, no-internal-process)
  kNotWritable,        // berthd may not write the directory's cgroup.subtree_control
  kUnknown,
};

// The refusal a user reads: which controller, where it stopped, and the fix.
std::string missing_controller_message(const std::string& controller, const std::string& task_dir,
                                       const std::string& stuck_dir, MissingCause cause,
                                       bool delegated);

}  // namespace berth::plugins::isolation::cgroup_v2
