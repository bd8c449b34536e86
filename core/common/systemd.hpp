// berthd as a systemd service, without libsystemd: the two small protocols it speaks.
//
//   sd_notify     datagrams to $NOTIFY_SOCKET ("READY=1" once the API answers, "STOPPING=1" on
//                 shutdown, "STATUS=..."), for Type=notify units. A path or an abstract name
//                 ("@..."); unset means not started by systemd, and nothing is sent.
//   socket activation  listening sockets inherited from berthd.socket: fds 3.. when $LISTEN_PID
//                 is this process and $LISTEN_FDS counts them (sd_listen_fds(3)). berthd takes
//                 them for the host "fd://" (dockerd's spelling).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::systemd {

// Sends `state` (newline-separated KEY=VALUE lines) to $NOTIFY_SOCKET; {} when unset.
Status notify(std::string_view state);

// The fds socket activation passed, given the environment's values (nullopt = unset) and this
// process's pid: empty when the fds are not meant for this process. Pure: unit-tested.
Result<std::vector<int>> parse_listen_fds(std::optional<std::string_view> listen_pid,
                                          std::optional<std::string_view> listen_fds, int pid);

// Takes the inherited listening sockets once: marks them close-on-exec, checks each is a
// listening stream socket, and unsets LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES so children
// (monitors, plugins) never see them. A second call returns an empty list.
Result<std::vector<int>> take_listen_fds();

}  // namespace berth::core::systemd
