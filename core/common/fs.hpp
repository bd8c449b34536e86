// Filesystem helpers with the durability rules the stores rely on.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::fs {

// kDurable: fsync the file and its directory, so the content survives a power cut.
// kVolatile: a file berthd rewrites before anything reads it again after a crash (a container's
// /etc/hosts), where an fsync would only slow every container's creation down.
enum class Durability { kDurable, kVolatile };

// Writes `data` to `path` atomically: a temp file beside it, rename over (with kDurable an fsync
// before and after). Readers see the old or the new content, never a torn one.
Status atomic_write(const std::filesystem::path& path, std::string_view data, mode_t mode = 0644,
                    Durability durability = Durability::kDurable);

// atomic_write unless `path` already holds exactly `data`: a rewrite that changes nothing still
// costs a new inode and a deleted one, which on some filesystems (ext4 without a journal) makes
// every later file creation slower for minutes.
Status write_if_changed(const std::filesystem::path& path, std::string_view data,
                        mode_t mode = 0644, Durability durability = Durability::kDurable);

Result<std::string> read_file(const std::filesystem::path& path);

// mkdir -p with `mode` for the directories it creates.
Status ensure_dir(const std::filesystem::path& path, mode_t mode = 0755);

// rm -rf that never follows symlinks and fails (kFailedPrecondition) at a mount point below
// `path` instead of emptying what is mounted there. A missing path is fine.
Status remove_all(const std::filesystem::path& path);

// fsync a directory (after creating or renaming entries in it).
Status fsync_dir(const std::filesystem::path& path);

// A temp path beside `path` (same directory, unique name), for write-then-rename.
std::filesystem::path temp_sibling(const std::filesystem::path& path);

}  // namespace berth::fs
