// Creating the container's process, in two forked children of the monitor (runc's nsexec stages
// in miniature). The code runs straight after the monitor's fork, with no exec in between: a
// fresh process image would cost more than everything the setup does.
//  - the setup child reads create.json (from the monitor's memfd), joins namespaces given by
//    path, unshares the new ones and forks the container's process; it puts that process in its
//    cgroups, lets it go, waits for it to be ready and reports "ok <pid>" to the monitor, then
//    exits so the process is re-parented to the monitor (a child subreaper);
//  - the container's process (pid 1 of its pid namespace) unshares its cgroup namespace once in
//    its cgroup, builds its mounts, pivots, sets up stdio or its terminal, hostname, sysctls,
//    masks, limits and privileges, reports ready and blocks until start() releases it.
#pragma once

#include <string>

#include "monitor/child_util.hpp"

namespace berth::plugins::isolation {

[[noreturn]] void run_container_setup(const ProcessFds& fds);

// An exec: the setup child joins the container's cgroups and namespaces and forks the process,
// which prepares itself like the container's and waits for start(task, exec).
[[noreturn]] void run_exec_setup(const std::string& task_dir, const std::string& exec_id,
                                 int container_pid, const ProcessFds& fds);

}  // namespace berth::plugins::isolation
