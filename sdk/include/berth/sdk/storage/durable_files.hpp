// File primitives a storage driver needs for its own metadata: crash-safe replacement and removal
// of small files, whole-file reads, and directory listing. Part of berth_sdk_plugin, so the
// first-party drivers and a vendor's use the same, tested code instead of each writing its own.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::sdk::storage {

// errno_error with the reason in lower case ("open /x: no such file or directory"), the style of
// the driver messages users read in `berth plugin ls` and berthd's log.
Error sys_error(std::string_view what, int err);

// Crash-safe replacement of a file is berth::sdk::fs::atomic_write (berth/sdk/fs.hpp).
// Unlinks dir/name and fsyncs dir, so the removal is durable before the caller goes on. A missing
// file is fine.
Status remove_file_durable(const std::string& dir, const std::string& name);
// The whole content of a regular file (O_NOFOLLOW: a symlink is refused).
Result<std::string> read_whole_file(const std::string& path);
// mkdir that accepts an existing directory (and only a directory).
Status ensure_dir(const std::string& path, mode_t mode);
// Entry names of a directory, without "." and "..", in readdir order.
Result<std::vector<std::string>> list_dir(const std::string& path);
// A non-empty string of at most 19 ASCII digits (fits an int64).
bool is_decimal(std::string_view s);

}  // namespace berth::sdk::storage
