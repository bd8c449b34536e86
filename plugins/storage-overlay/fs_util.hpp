// Filesystem primitives of the overlay driver: disk usage and the facts about the backing
// filesystem that decide whether overlay can work on it; file and tree primitives are the SDK's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/fs.hpp"
#include "berth/sdk/result.hpp"
#include "berth/sdk/storage/durable_files.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::plugins::overlay {

// The metadata file primitives are the SDK's (shared with every storage driver).
using sdk::storage::ensure_dir;
using sdk::storage::is_decimal;
using sdk::storage::list_dir;
using sdk::storage::read_whole_file;
using sdk::storage::remove_file_durable;
using sdk::storage::sys_error;

// rm -rf that never follows symlinks and never descends into another mount (the SDK's); overlay
// work dirs ("work/work", mode 000) are no obstacle to root.
using sdk::fs::remove_tree;

// Bytes and inodes below `dir`, counting each inode once (hard links) and not crossing mounts.
// Bytes are st_blocks * 512: the space the files occupy on disk, as du(1) and containerd report
// (a sparse file counts what it allocated, not its apparent size).
sdk::Result<sdk::Usage> disk_usage(const std::string& dir);

struct BackingFs {
  std::string name;  // Docker's names: "extfs", "xfs", "btrfs", "tmpfs", "overlayfs", ...
  int64_t magic = 0;
};
sdk::Result<BackingFs> backing_fs(const std::string& path);
constexpr int64_t kOverlayFsMagic = 0x794c7630;

// Whether readdir reports file types (d_type) on the filesystem of `dir`: overlay needs them to
// find whiteouts (xfs formatted with ftype=0 does not). Creates and removes a probe below `dir`.
sdk::Result<bool> supports_d_type(const std::string& dir);

// Whether `fs_name` is listed in /proc/filesystems (a module not yet loaded is not).
bool filesystem_listed(std::string_view fs_name);

}  // namespace berth::plugins::overlay
