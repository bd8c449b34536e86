// The filesystem side of `docker cp` (HEAD/GET/PUT /containers/{id}/archive) and
// `docker export`. `root` is the container's root as a host directory: /proc/<pid>/root of a
// running container (its mount namespace, volumes and binds included) or a mount of a stopped
// container's rootfs. Every API path is resolved inside root with openat2(RESOLVE_IN_ROOT), so
// a symlink in the container is followed as the container sees it and can never lead to the
// host's files; nothing is written outside root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/id_shift.hpp"
#include "core/layer/tar_stream.hpp"

namespace berth::core::container {

// Go's os.FileMode bits, which the stat header carries (not the Unix st_mode layout).
inline constexpr uint32_t kGoModeDir = 1u << 31;
inline constexpr uint32_t kGoModeSymlink = 1u << 27;
inline constexpr uint32_t kGoModeDevice = 1u << 26;
inline constexpr uint32_t kGoModeNamedPipe = 1u << 25;
inline constexpr uint32_t kGoModeSocket = 1u << 24;
inline constexpr uint32_t kGoModeSetuid = 1u << 23;
inline constexpr uint32_t kGoModeSetgid = 1u << 22;
inline constexpr uint32_t kGoModeCharDevice = 1u << 21;
inline constexpr uint32_t kGoModeSticky = 1u << 20;

// st_mode → Go FileMode.
uint32_t go_file_mode(mode_t mode);

struct PathStat {
  std::string name;  // Go's filepath.Base of the absolute path ("." for "dir/.", "/" for "/")
  int64_t size = 0;
  uint32_t mode = 0;  // Go os.FileMode
  std::string mtime;  // RFC 3339 seconds, UTC
  // For a symlink: the path it leads to, fully resolved inside the container ("/usr/lib/x").
  std::string link_target;
};

// lstat of `path` in the container, as dockerd's StatPath: parent directories are resolved
// (symlinks followed inside root); the last element is not, unless the path ends in "/" or
// "/.". kNotFound when it does not exist (the handler answers 404 "Could not find the file
// <path> in container <name>").
Result<PathStat> stat_path(const std::string& root, const std::string& path);

// Standard base64 (padded) of {"name","size","mode","mtime","linkTarget"}: the value of the
// X-Docker-Container-Path-Stat header.
std::string encode_path_stat(const PathStat& stat);
Result<PathStat> decode_path_stat(std::string_view header);

// GET archive: a tar of `path` whose top entry is its basename ("file.txt"; a directory with its
// tree: "dir/", "dir/a"), in dockerd's layout (type bits in the mode field, numeric owners,
// hard links as link entries). A symlink as the last element is archived as the link itself;
// "dir/" archives what it resolves to under the name "dir"; "dir/." archives the directory as
// "./" with its contents as "./a" (docker cp's copy-the-contents form). kNotFound when missing.
// `ids`: owners as the container sees them (a remapped container's files).
Status archive_path(const std::string& root, const std::string& path, Writer& out,
                    layer::IdShift ids = {});

struct Owner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// PUT archive: unpacks `tar` (uncompressed, gzip, bzip2, xz or zstd) into directory `dest_dir`
// of the container, which must exist (kNotFound) and be a directory after following symlinks
// (kInvalidArgument "extraction point is not a directory"). Entry names are relative to it;
// no whiteout semantics (".wh.x" is a file). Refused, as dockerd refuses them (kInvalidArgument):
// an entry whose name climbs out of dest_dir, a hard link to outside it, a relative symlink that
// points above dest_dir. Parent symlinks met on the way resolve inside root. Owners: the tar's
// when copy_uid_gid, else root (docker cp without -a); `owner` overrides both (docker cp -a into
// a container with a User). no_overwrite_dir_non_dir: replacing a directory with a
// non-directory or the reverse is kFailedPrecondition "cannot overwrite directory \"<path>\"
// with non-directory \"<dest>\"" (container paths). Entries before a failure stay.
// `ids`: the owners, container ids, are stored as the host's (a remapped container). Input that
// is not a tar, or unpacks beyond `limits`, is kInvalidArgument.
Status extract_archive(const std::string& root, const std::string& dest_dir, Reader& tar,
                       bool no_overwrite_dir_non_dir, bool copy_uid_gid,
                       std::optional<Owner> owner = std::nullopt, layer::IdShift ids = {},
                       const layer::TarLimits& limits = {});

// docker export: a tar of everything under `root` (a mounted rootfs, not /proc/<pid>/root),
// entries named without a leading "./" ("bin/", "bin/sh", ".dockerenv").
Status export_rootfs(const std::string& root, Writer& out, layer::IdShift ids = {});

}  // namespace berth::core::container
