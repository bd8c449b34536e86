// Filesystem helpers with the durability rules the stores rely on.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "berth/sdk/fs.hpp"
#include "core/common/result.hpp"

namespace berth::fs {

// The filesystem layer shared with the plugins lives in the SDK (berth/sdk/fs.hpp): one atomic
// writer, one removal that stops at mount points, one fsync_dir. These names keep the core's
// call sites as they were.
using sdk::fs::atomic_write;
using sdk::fs::Durability;
using sdk::fs::fsync_dir;

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
inline Status remove_all(const std::filesystem::path& path) { return sdk::fs::remove_tree(path); }

}  // namespace berth::fs
