// The facts about the filesystem a path lives on, which decide whether btrfs can work there.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage/durable_files.hpp"

namespace berth::plugins::btrfs {

// The metadata file primitives are the SDK's (shared with every storage driver).
using sdk::storage::ensure_dir;
using sdk::storage::is_decimal;
using sdk::storage::list_dir;
using sdk::storage::read_whole_file;
using sdk::storage::remove_file_durable;

// The filesystem `path` lives on, or (when `path` does not exist yet) its nearest existing
// ancestor: the directory a daemon will create is decided by the filesystem it lands on.
struct FsFacts {
  std::string checked;  // the path actually examined (path or an ancestor)
  int64_t magic = 0;    // statfs f_type
  std::string type;     // "ext4", "tmpfs", ... from /proc/self/mountinfo, else from the magic
};
sdk::Result<FsFacts> filesystem_of(const std::string& path);

}  // namespace berth::plugins::btrfs
