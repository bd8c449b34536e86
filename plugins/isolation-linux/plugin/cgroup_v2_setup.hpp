// The I/O half of cgroup_v2_layout: observes the host, plans the layout, moves berthd into its
// leaf when delegated, enables controllers along a task's chain, and explains a missing one.
// Writing cgroup.subtree_control never moves a process; berthd moves no process but its own.
#pragma once

#include <string>
#include <vector>

#include "berth/sdk/result.hpp"
#include "plugin/cgroup_v2_layout.hpp"

namespace berth::plugins::isolation::cgroup_v2 {

// Observes `top` (a cgroup2 mount) and /proc/self/cgroup, plans the layout, and for the delegated
// layout moves berthd into its leaf and enables the wanted controllers in its base. `notes` gets
// one line per thing worth a log line (the layout, a controller that cannot be had).
sdk::Result<Layout> prepare(const std::string& top, LayoutMode mode,
                            std::vector<std::string>& notes);

// Enables controllers on the task's chain: in directories berthd created (`created`, absolute)
// every controller offered; elsewhere the wanted ones. Failures are left for explain_missing.
void enable_chain(const std::string& top, const Layout& layout, const std::string& task_rel,
                  const std::vector<std::string>& created);

// Walks the chain for `controller` once more (enabling it where it can: a host that gained it
// since); "" when the task's directory has it now, else the message naming where and the fix.
std::string ensure_controller(const std::string& top, const Layout& layout,
                              const std::string& task_rel, const std::string& controller);

}  // namespace berth::plugins::isolation::cgroup_v2
