// Filesystem changes of a container (`docker diff`) and the layer tar that carries them
// (`docker commit`): from an overlayfs upperdir, or from comparing two trees.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/id_shift.hpp"

namespace berth::core::layer {

struct Change {
  // Docker's numeric kinds (GET /containers/{id}/changes).
  enum Kind { kModified = 0, kAdded = 1, kDeleted = 2 };

  std::string path;  // "/etc/x"
  Kind kind = kModified;

  bool operator==(const Change&) const = default;
};

// "C", "A", "D", as `docker diff` prints them.
std::string_view change_kind_letter(Change::Kind kind);

// Changes recorded in an overlayfs upperdir over `lowers` (topmost first, as in lowerdir=):
// a char device 0:0 is a deletion; an opaque directory (trusted.overlay.opaque=y) hides
// everything of the lowers below it, and what it hides is reported deleted; a path present in
// the merged lowers is Modified, else Added; the parent directory of an addition or deletion is
// Modified, as in `docker diff`. Sorted by path.
Result<std::vector<Change>> overlay_changes(const std::filesystem::path& upper,
                                            const std::vector<std::filesystem::path>& lowers);

// Changes from `base` to `changed`, by walking both and comparing type, mode, owner, device,
// size and mtime (not for directories, whose own changes show through their children), symlink
// target and xattrs. Directories with changes below them are Modified. Sorted by path.
Result<std::vector<Change>> tree_changes(const std::filesystem::path& base,
                                         const std::filesystem::path& changed);

// A Docker layer tar of `changes` read from `root` (the changed tree): deletions become empty
// ".wh.<name>" files, additions and modifications are copied (directories without their
// contents: their children are changes of their own), and the parent directories of every
// change are included so the tar applies on its own. `ids`: owners as the container sees them.
Status write_changes_tar(const std::filesystem::path& root, const std::vector<Change>& changes,
                         Writer& out, IdShift ids = {});

}  // namespace berth::core::layer
