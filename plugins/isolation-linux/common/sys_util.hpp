// Small system helpers shared by the plugin (inside berthd) and the monitor binary: whole-file
// reads and writes (cgroupfs and procfs files included), atomic replacement, trees, string
// splitting and number parsing. Errors are lowercase and name the path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/fs.hpp"
#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation {

// strerror(err) with its first letter lowercased, as Go and Docker print errno texts.
std::string errno_text(int err);

// Reads a whole file (procfs and cgroupfs files report size 0, so this reads until EOF).
sdk::Result<std::string> read_file(const std::string& path);
// Everything in `fd` from offset 0 (pread: the fd's own offset is left alone, so a memfd can be
// read again and again).
sdk::Result<std::string> read_whole_fd(int fd, const std::string& what);
// Writes `data` with one write(2) to an existing file (cgroupfs and procfs semantics: no O_CREAT,
// no O_TRUNC). Errors read "write <path>: <errno text>".
sdk::Status write_existing(const std::string& path, std::string_view data);
// The SDK's atomic writer (berth/sdk/fs.hpp) with this backend's policy: task files are small and
// rewritten on every state change on the start/exit path, so they are not fsynced (a host crash
// kills the containers they describe anyway).
inline sdk::Status write_file_atomic(const std::string& path, std::string_view data,
                                     mode_t mode = 0600) {
  return sdk::fs::atomic_write(path, data, mode, sdk::fs::Durability::kVolatile);
}
// mkdir -p. Existing directories are fine.
sdk::Status make_dirs(const std::string& path, mode_t mode = 0755);
// rm -rf without following symlinks or crossing into other mounts (the SDK's).
using sdk::fs::remove_tree;
bool path_exists(const std::string& path);

sdk::Status write_all(int fd, const void* data, size_t size);

std::vector<std::string_view> split(std::string_view text, char sep, bool skip_empty = true);
std::string_view trim(std::string_view text);
std::optional<int64_t> parse_int64(std::string_view text);
std::optional<uint64_t> parse_uint64(std::string_view text);

// "key value" / "key=value" lines of a flat text file, the value being the rest of the line.
std::optional<std::string_view> find_key(std::string_view text, std::string_view key, char sep);

// Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22): with the pid it
// identifies a process for good, so a recycled pid is never mistaken for a monitor.
std::optional<uint64_t> process_start_time(pid_t pid);

int64_t now_unix_nano();

}  // namespace berth::plugins::isolation
