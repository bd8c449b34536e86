// Path handling that cannot be tricked into leaving a tree: names are cleaned lexically, and
// every lookup goes through openat2(2) relative to a directory fd of the tree, so a symlink or
// ".." planted inside the tree cannot redirect a write outside it.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::core::layer {

// A cleaned relative path as its components; empty means the tree's root.
using PathParts = std::vector<std::string>;

// Cleans a tar member name or link target: leading "/" and "./" are dropped, "." and empty
// components removed and ".." applied lexically. kInvalidArgument when ".." would climb above the
// root.
Result<PathParts> clean_path(std::string_view name);

// Splits on "/" and applies "." and ".." lexically onto `base`, ".." stopping at the root (Go's
// filepath.Join("/", p) semantics: an absolute path cannot climb above "/").
PathParts clamp_clean(std::string_view path, PathParts base = {});

// "a/b/c" from the first `count` components (all of them by default).
std::string join_path(const PathParts& parts, size_t count = static_cast<size_t>(-1));

// openat2(dirfd, path, how) retried on EAGAIN/EINTR; -1 and errno on failure. `path` "" or "."
// opens dirfd itself.
int openat2_fd(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve);

// The resolve flags of the layer applier: stay beneath the root, never through /proc magic links.
inline constexpr uint64_t kResolveBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

// Opens the directory made of the first `count` components (O_PATH unless `flags` says
// otherwise). -1 and errno on failure: EXDEV or ELOOP when the path leaves the tree.
int open_dir_fd(int root_fd, const PathParts& parts, size_t count,
                uint64_t resolve = kResolveBeneath, int flags = O_PATH);

// "<what> \"<path>\": <reason>" with a code from errno; EXDEV and ELOOP read "escapes the root".
Error path_error(std::string_view what, std::string_view path, int err);

// Opens `path` as an O_PATH directory fd to serve as a root for the functions above.
Result<UniqueFd> open_root(const std::filesystem::path& path);

// rm -rf of `name` in dirfd: sdk::fs::remove_tree_at (berth/sdk/fs.hpp).

// Names in a directory (without "." and ".."), sorted bytewise. dirfd may be O_PATH.
Result<std::vector<std::string>> list_dir(int dirfd);

// lstat of `name` in dirfd; false when it does not exist (errno kept for other failures).
bool lstat_at(int dirfd, const std::string& name, struct stat* st);

// "/proc/self/fd/<dirfd>/<name>": lets the path-only l*xattr calls reach an entry through a
// directory fd we resolved safely, without following a symlink at `name`.
std::string proc_path(int dirfd, std::string_view name);

}  // namespace berth::core::layer
