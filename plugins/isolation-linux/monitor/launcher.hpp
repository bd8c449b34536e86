// berth-monitor --launcher: the plugin's long-lived helper that forks a monitor for every
// container (see plugin/monitor_launcher.hpp for why and for the request). It serves its
// control socket on fd 3 until the plugin closes it, and reaps the monitors it forked while it
// lives; after that they are re-parented to init and live on.
#pragma once

#include <string>

namespace berth::plugins::isolation {

// `monitor_main` runs in each forked child with the request's fds as 3 to 6, in a session of
// its own; its return value is the child's exit status.
int run_launcher(int control_fd, int (*monitor_main)(const std::string& task_dir));

}  // namespace berth::plugins::isolation
