// The filesystem layer every part of Berth uses (core, plugins, the conformance suites): one
// recursive removal that never crosses a mount point, one atomic and durable file writer, one
// readlink. Part of berth::sdk_util, linked by both sides of the SDK. Errors carry errno's code
// and reason: "rename /x/.f.tmp-1a2b to /x/f: No space left on device".
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "berth/sdk/result.hpp"

namespace berth::sdk::fs {

// kDurable: fsync the file and its directory, so the content survives a power cut.
// kVolatile: a file rewritten before anything reads it again after a crash (a container's
// /etc/hosts), where an fsync would only slow every container's creation down.
enum class Durability { kDurable, kVolatile };

// Writes `data` to `path` atomically: a uniquely named temp file beside it (mkostemp), then
// rename over `path`; with kDurable the file is fsynced before and its directory after. Readers
// see the old or the new content, never a torn one; a failure leaves no temp file behind.
Status atomic_write(const std::string& path, std::string_view data, mode_t mode = 0644,
                    Durability durability = Durability::kDurable);

// Whether a directory entry is the temp file of an atomic_write that was interrupted (a crash):
// such a file is garbage, the file it was replacing is intact.
bool is_atomic_write_leftover(std::string_view name);

// fsync a directory (after creating, renaming or removing entries in it).
Status fsync_dir(const std::string& path);

// rm -rf that never follows a symlink and never crosses a mount point: a directory below `path`
// on another device (a container rootfs or volume still mounted) makes the removal fail with
// kFailedPrecondition ("... is a mount point; unmount it first") instead of emptying what is
// mounted there. A missing path is success.
Status remove_tree(const std::string& path);
// The same for the entry `name` (one path component) of the directory `dirfd` (which may be an
// O_PATH fd), so callers
// that resolved a tree safely (openat2 RESOLVE_BENEATH) remove through that fd.
Status remove_tree_at(int dirfd, const std::string& name);

// The target of the symlink dirfd/name (AT_FDCWD: a path), any length.
Result<std::string> read_link_at(int dirfd, const std::string& name);
Result<std::string> read_link(const std::string& path);

}  // namespace berth::sdk::fs
