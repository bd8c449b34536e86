// Tars of directory trees, for `docker export`, `docker cp` (GET archive) and committed layers.
// Entries are read through directory fds opened beneath the root, symlinks are never followed,
// and a file seen twice (same inode) becomes a hard-link entry, as dockerd writes them.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/id_shift.hpp"
#include "core/layer/tar_writer.hpp"

namespace berth::core::layer {

struct TreeOptions {
  // Name of the top entry in the archive; empty: the basename of `rel`. When `rel` is the root
  // itself and this is empty, the archive holds the root's contents with no top entry (export).
  std::string rename_to;
  // Owners as the container sees them (a remapped container's files).
  IdShift ids;
};

// Writes a PAX tar of `rel` (a directory tree or a single entry) under `root` to `out`.
// Symlinks in `rel`'s parents are resolved inside `root` (as the container would see them); the
// entry itself is archived as it is (a symlink stays a symlink). Sockets are skipped.
Status write_tree(const std::filesystem::path& root, const std::filesystem::path& rel, Writer& out,
                  const TreeOptions& options = {});

// The entry-level encoder behind write_tree and write_changes_tar.
class TreeArchiver {
 public:
  // `ids`: owners are written as the container sees them (a remapped container's files).
  explicit TreeArchiver(Writer& out, IdShift ids = {}) : tar_(out), ids_(ids) {}

  // Archives `name` in `dirfd` as member `tar_name` (no trailing "/"; added for directories),
  // with its whole subtree when `recurse`. A missing entry is kNotFound.
  Status add(int dirfd, const std::string& name, const std::string& tar_name, bool recurse);
  // Archives the contents of directory `dirfd`, named "<prefix>/<child>" (or "<child>").
  Status add_children(int dirfd, const std::string& prefix);
  // An empty regular file, for whiteouts (".wh.<name>").
  Status add_empty_file(const std::string& tar_name, int64_t mtime);
  Status finish() { return tar_.finish(); }

 private:
  Status add_stat(int dirfd, const std::string& name, const std::string& tar_name,
                  const struct stat& st, bool recurse);

  TarWriter tar_;
  IdShift ids_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace berth::core::layer
