// The generic layer applier: unpacks a Docker/OCI layer tar onto a directory, with whiteouts,
// opaque directories, hard links, devices, ownership, modes, times and xattrs, and refuses every
// entry that would land outside that directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/tar_stream.hpp"

namespace berth::core::layer {

class SplitRecorder;

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
inline constexpr std::string_view kWhiteoutOpaqueDir = ".wh..wh..opq";

enum class WhiteoutMode {
  // Whiteouts delete the named entries in root (a plain directory or a merged view).
  kApply,
  // Root is an overlayfs upperdir: ".wh.<name>" becomes an overlay whiteout (char device 0:0)
  // and ".wh..wh..opq" the xattr trusted.overlay.opaque="y" on its directory.
  kOverlay,
};

struct ApplyOptions {
  WhiteoutMode whiteouts = WhiteoutMode::kApply;
  // lchown entries to the numeric uid/gid of the tar; off, they belong to the caller.
  bool preserve_owner = true;
  // Symlinks met in an entry's parents. Off (layers): an absolute one or one climbing out of
  // root refuses the entry. On (archives copied into a container, docker cp): they resolve as
  // the container would see them, with root as "/", and still cannot leave root.
  bool resolve_in_root = false;
  // What the tar may unpack to (daemon.json's max-layer-size, max-expansion-ratio).
  TarLimits limits;
  // Records the layer's tar split while it is applied (a layer stored once), when set.
  SplitRecorder* recorder = nullptr;
};

struct ApplyResult {
  int64_t size = 0;     // bytes of regular file content
  int64_t entries = 0;  // tar members processed
  // "sha256:<hex>" of the whole uncompressed stream (trailing bytes after the end-of-archive
  // blocks included): the layer's DiffID, to check against the image config's rootfs.diff_ids.
  std::string diff_id;
};

// Applies a tar stream (uncompressed, gzip, bzip2, xz or zstd, told apart by magic) under
// `root`. Input that is not a tar, or unpacks beyond `options.limits`, is kInvalidArgument. An entry that would escape `root` (".." climbing out, a hard link whose target is
// absolute or outside, a parent that goes through a symlink leading outside) is kInvalidArgument
// and stops the apply; entries already applied stay. Paths are resolved with openat2(2) beneath
// an fd of root and entries created relative to their parent's fd, never through a final
// symlink.
Result<ApplyResult> apply_tar(const std::filesystem::path& root, Reader& in,
                              const ApplyOptions& options = {});

}  // namespace berth::core::layer
