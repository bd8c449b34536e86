// Filesystem primitives of the btrfs driver: crash-safe file replacement, directory listing, and
// the facts about the filesystem a path lives on (which decide whether btrfs can work there).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::plugins::btrfs {

// Replaces dir/name with `data` so that a crash leaves either the old or the new content: write
// dir/name.tmp, fsync it, rename over dir/name, fsync dir.
sdk::Status write_file_atomic(const std::string& dir, const std::string& name,
                              std::string_view data);
// Unlinks dir/name and fsyncs dir, so the removal is durable before the caller goes on.
sdk::Status remove_file_durable(const std::string& dir, const std::string& name);
sdk::Result<std::string> read_whole_file(const std::string& path);

// mkdir that accepts an existing directory (and only a directory).
sdk::Status ensure_dir(const std::string& path, mode_t mode);

// Entry names of a directory (no "." / "..").
sdk::Result<std::vector<std::string>> list_dir(const std::string& path);

bool is_decimal(std::string_view s);

// The filesystem `path` lives on, or (when `path` does not exist yet) its nearest existing
// ancestor: the directory a daemon will create is decided by the filesystem it lands on.
struct FsFacts {
  std::string checked;  // the path actually examined (path or an ancestor)
  int64_t magic = 0;    // statfs f_type
  std::string type;     // "ext4", "tmpfs", ... from /proc/self/mountinfo, else from the magic
};
sdk::Result<FsFacts> filesystem_of(const std::string& path);

}  // namespace berth::plugins::btrfs
