// The wire between the plugin (in berthd) and a container's monitor, and the files of a task's
// state directory. Kept deliberately small and textual so the monitor's long-lived process never
// needs a JSON parser:
//
// <state_dir>/tasks/<id>/
//   task.json     the plugin's record of the task (written once create succeeded)
//   m.sock        the monitor's listening socket (unlinked once the container exited)
//   exit          "key=value" lines written atomically by the monitor when the container exited
//   exec-<id>.json  the OCI process of an exec, read by the exec's setup child
//
// The monitor gets the rest in memfds when it starts (plugin/monitor_client.hpp): its "key value"
// configuration (stdio, log, cgroup files), create.json (OCI spec, rootfs mounts, cgroups, stdio:
// common/create_config.hpp) and the compiled seccomp program (struct sock_filter[]).
//
// Requests are one line each, on a fresh connection to m.sock; the answer is one line,
// "ok[ <data>]" or "err <code> <message>" (code = berth::sdk::ErrorCode). "-" names the
// container's own process where an exec id is expected:
//   state                          -> ok <created|running|exited> <pid> <started_at_unix_nano>
//   start <exec>                   -> ok | err (Docker's exec wording when execve failed)
//   kill <exec> <signal>           -> ok
//   exec <exec> <terminal> <stdin> <stdin_once>   -> ok <pid>  (process in exec-<exec>.json)
//   resize <exec> <rows> <cols>    -> ok
//   attach <exec> <stdin> <stdout> <stderr>      -> ok, then Docker's attach stream
//   subscribe                      -> ok <created|running|exited>, then one line per exit:
//                                     exit <exec> <pid> <exit_code> <oom 0|1> <unix_nano>
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/sdk/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

inline constexpr std::string_view kSocketName = "m.sock";
inline constexpr std::string_view kTaskFile = "task.json";
inline constexpr std::string_view kExitFile = "exit";
inline constexpr std::string_view kMonitorLog = "monitor.log";
inline constexpr std::string_view kMainExec = "-";

// Exec ids and container ids travel as single words in the protocol and name files.
bool valid_token(std::string_view id);

// Unix stream sockets by path. Paths longer than sun_path goes through /proc/self/fd/<dir fd>,
// so a deep state directory never limits the id length.
sdk::Result<UniqueFd> unix_connect(const std::string& path);
sdk::Result<UniqueFd> unix_listen(const std::string& path);

// Reads one '\n'-terminated line from a socket and nothing after it (an attach stream follows
// the "ok"): the socket is peeked at, then the line read whole. timeout_ms < 0 waits forever.
sdk::Result<std::string> read_line(int fd, int timeout_ms, size_t max_size = 65536);

// "ok <data>" -> data; "err <code> <message>" -> that error.
sdk::Result<std::string> parse_reply(std::string_view line);
std::string format_error(const sdk::Error& error);  // "err <code> <message>\n"

// One message carrying `count` (at most 8) fds (SCM_RIGHTS). 0, or the errno of the failure
// (EMSGSIZE when only part of `data` went).
int send_with_fds(int sock, std::string_view data, const int* fds, size_t count);
// One fd over a unix socket, as runc's console socket passes a pty master.
sdk::Status send_fd(int sock, int fd);
sdk::Result<UniqueFd> recv_fd(int sock, int timeout_ms);

// A message made safe for one protocol line.
std::string one_line(std::string_view text);

}  // namespace berth::plugins::isolation
