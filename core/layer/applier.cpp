#include "core/layer/applier.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <string>
#include <unordered_set>
#include <vector>

#include "berth/sdk/fs.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/compression.hpp"
#include "core/layer/entry_writer.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/tar_split.hpp"
#include "core/layer/tar_stream.hpp"
#include "core/layer/xattrs.hpp"

namespace berth::core::layer {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

using Member = TarMember;

class Applier {
 public:
  Applier(int root_fd, const ApplyOptions& options)
      : root_(root_fd),
        options_(options),
        resolve_(options.resolve_in_root ? RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
                                         : kResolveBeneath),
        writer_("apply layer", "layer",
                [this](const Member& m, std::string_view step, int err) {
                  return entry_error(m, step, err);
                },
                [this](const Member& m) -> std::optional<EntryOwner> {
                  if (!options_.preserve_owner) return std::nullopt;
                  return EntryOwner{static_cast<uid_t>(m.uid), static_cast<gid_t>(m.gid)};
                }) {}

  Result<ApplyResult> run(Reader& in);

 private:
  Status apply_member(archive* a, archive_entry* e, bool* last);
  Status apply_root(archive_entry* e, const Member& m);
  Status apply_whiteout(const Member& m);
  Status apply_opaque(const Member& m);
  Status apply_hardlink(const Member& m, int parent, bool exists);
  Status clear_opaque(int dirfd, const std::string& rel);

  // The parent directory of a member, created (0755) when missing if `create`. -1 with errno.
  int open_parent(const PathParts& parts, bool create);

  void record(const PathParts& parts);

  Error entry_error(const Member& m, int err) const;
  Error entry_error(const Member& m, std::string_view what, int err) const;

  int root_;
  const ApplyOptions& options_;
  uint64_t resolve_;
  EntryWriter writer_;
  ApplyResult result_;
  // Paths this layer created, and their ancestors: an opaque directory keeps those.
  std::unordered_set<std::string> unpacked_;
  std::unordered_set<std::string> ancestors_;
};

Error Applier::entry_error(const Member& m, int err) const {
  if (err == EXDEV || err == ELOOP) {
    return make_error(ErrorCode::kInvalidArgument,
                      "apply layer: entry \"" + m.name + "\" escapes the layer root");
  }
  return errno_error("apply layer: entry \"" + m.name + "\"", err);
}

Error Applier::entry_error(const Member& m, std::string_view what, int err) const {
  if (err == EXDEV || err == ELOOP) return entry_error(m, err);
  return errno_error("apply layer: entry \"" + m.name + "\": " + std::string(what), err);
}

void Applier::record(const PathParts& parts) {
  unpacked_.insert(join_path(parts));
  for (size_t i = 1; i < parts.size(); ++i) ancestors_.insert(join_path(parts, i));
}

int Applier::open_parent(const PathParts& parts, bool create) {
  size_t depth = parts.size() - 1;
  int fd = open_dir_fd(root_, parts, depth, resolve_);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  // Walk down creating what is missing, every step resolved beneath the root again.
  UniqueFd current(open_dir_fd(root_, parts, 0, resolve_));
  if (!current) return -1;
  for (size_t i = 0; i < depth; ++i) {
    int next = open_dir_fd(root_, parts, i + 1, resolve_);
    if (next < 0) {
      if (errno != ENOENT) return -1;
      if (::mkdirat(current.get(), parts[i].c_str(), 0755) == 0) {
        ::fchmodat(current.get(), parts[i].c_str(), 0755, 0);  // whatever the umask
      } else if (errno != EEXIST) {
        return -1;
      }
      next = open_dir_fd(root_, parts, i + 1, resolve_);
      if (next < 0) return -1;
    }
    current.reset(next);
  }
  return current.release();
}

Status Applier::clear_opaque(int dirfd, const std::string& rel) {
  auto names = list_dir(dirfd);
  if (!names) return std::move(names).error().wrap("apply layer: opaque directory \"" + rel + "\"");
  for (const auto& name : *names) {
    std::string path = rel.empty() ? name : rel + "/" + name;
    bool kept = unpacked_.contains(path);
    bool ancestor = ancestors_.contains(path);
    if (!kept && !ancestor) {
      if (auto st = sdk::fs::remove_tree_at(dirfd, name); !st) {
        return std::move(st).error().wrap("apply layer: opaque directory \"" + rel + "\"");
      }
      continue;
    }
    // A kept directory hides the lower layers' contents too: clear what this layer did not add.
    struct stat st {};
    if (ancestor && lstat_at(dirfd, name, &st) && S_ISDIR(st.st_mode)) {
      UniqueFd child(::openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) return errno_error("apply layer: opaque directory \"" + path + "\"");
      BERTH_TRY_STATUS(clear_opaque(child.get(), path));
    }
  }
  return {};
}

Status Applier::apply_opaque(const Member& m) {
  PathParts dir(m.path.begin(), m.path.end() - 1);
  if (options_.whiteouts == WhiteoutMode::kOverlay) {
    UniqueFd parent(open_parent(m.path, true));
    if (!parent) return entry_error(m, errno);
    UniqueFd fd(open_dir_fd(root_, dir, dir.size(), resolve_, O_RDONLY));
    if (!fd) return entry_error(m, errno);
    if (auto st = set_xattr_fd(fd.get(), "trusted.overlay.opaque", "y"); !st) {
      return std::move(st).error().wrap("apply layer: entry \"" + m.name + "\"");
    }
    return {};
  }
  UniqueFd fd(open_dir_fd(root_, dir, dir.size(), resolve_));
  if (!fd) {
    if (errno == ENOENT) return {};  // nothing below to hide
    return entry_error(m, errno);
  }
  return clear_opaque(fd.get(), join_path(dir));
}

Status Applier::apply_whiteout(const Member& m) {
  std::string target = m.path.back().substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..") {
    return make_error(ErrorCode::kInvalidArgument,
                      "apply layer: entry \"" + m.name + "\": invalid whiteout");
  }
  if (options_.whiteouts == WhiteoutMode::kOverlay) {
    UniqueFd parent(open_parent(m.path, true));
    if (!parent) return entry_error(m, errno);
    BERTH_TRY_STATUS(sdk::fs::remove_tree_at(parent.get(), target));
    if (::mknodat(parent.get(), target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return entry_error(m, "create overlay whiteout", errno);
    }
    if (options_.preserve_owner &&
        ::fchownat(parent.get(), target.c_str(), static_cast<uid_t>(m.uid),
                   static_cast<gid_t>(m.gid), AT_SYMLINK_NOFOLLOW) != 0) {
      return entry_error(m, "chown", errno);
    }
    return {};
  }
  UniqueFd parent(open_parent(m.path, false));
  if (!parent) {
    if (errno == ENOENT || errno == ENOTDIR) return {};  // already absent
    return entry_error(m, errno);
  }
  if (auto st = sdk::fs::remove_tree_at(parent.get(), target); !st) {
    return std::move(st).error().wrap("apply layer: entry \"" + m.name + "\"");
  }
  return {};
}

Status Applier::apply_hardlink(const Member& m, int parent, bool exists) {
  auto escape = [&] {
    return make_error(ErrorCode::kInvalidArgument, "apply layer: hard link \"" + m.name +
                                                       "\" -> \"" + m.linkname +
                                                       "\" escapes the layer root");
  };
  // Link targets name members of the same archive: an absolute one has no business here.
  if (starts_with(m.linkname, "/")) return escape();
  auto target = clean_path(m.linkname);
  if (!target) return escape();
  if (target->empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "apply layer: hard link \"" + m.name + "\" has no target");
  }
  if (*target == m.path) return {};  // a link to itself: the file is already there
  UniqueFd target_parent(open_dir_fd(root_, *target, target->size() - 1, resolve_));
  if (!target_parent) {
    if (errno == EXDEV || errno == ELOOP) return escape();
    if (errno == ENOENT || errno == ENOTDIR) {
      return make_error(ErrorCode::kNotFound, "apply layer: hard link \"" + m.name +
                                                  "\": target \"" + m.linkname + "\" not found");
    }
    return entry_error(m, "link", errno);
  }
  if (exists) {
    if (auto st = sdk::fs::remove_tree_at(parent, m.path.back()); !st) {
      return std::move(st).error().wrap("apply layer: entry \"" + m.name + "\"");
    }
  }
  // Flags 0: a target that is a symlink is linked itself, never followed.
  if (::linkat(target_parent.get(), target->back().c_str(), parent, m.path.back().c_str(), 0) !=
      0) {
    if (errno == ENOENT) {
      return make_error(ErrorCode::kNotFound, "apply layer: hard link \"" + m.name +
                                                  "\": target \"" + m.linkname + "\" not found");
    }
    return entry_error(m, "link", errno);
  }
  record(m.path);
  return {};
}

Status Applier::apply_root(archive_entry* e, const Member& m) {
  if (m.type != AE_IFDIR || m.hardlink) return {};
  UniqueFd fd(open_dir_fd(root_, m.path, 0, resolve_, O_RDONLY));
  if (!fd) return entry_error(m, "open", errno);
  return writer_.set_dir_metadata(e, m, fd.get());
}

Status Applier::apply_member(archive* a, archive_entry* e, bool* last) {
  auto read = writer_.read_member(e);
  if (!read) return std::move(read).error();
  Member& m = *read;
  auto parts = clean_path(m.name);
  if (!parts) {
    return make_error(ErrorCode::kInvalidArgument,
                      "apply layer: entry \"" + m.name + "\" escapes the layer root");
  }
  m.path = std::move(*parts);
  ++result_.entries;
  if (options_.recorder != nullptr) {
    BERTH_TRY_STATUS(options_.recorder->before_apply(result_.entries - 1, join_path(m.path), root_));
  }

  if (m.path.empty()) return apply_root(e, m);
  // aufs metadata (".wh..wh.plnk", ".wh..wh.aufs") at the top of old layers is not content.
  if (starts_with(m.path.front(), kWhiteoutMetaPrefix) &&
      !(m.path.size() == 1 && m.path.front() == kWhiteoutOpaqueDir)) {
    return {};
  }
  const std::string& base = m.path.back();
  if (base == kWhiteoutOpaqueDir) return apply_opaque(m);
  if (starts_with(base, kWhiteoutPrefix)) return apply_whiteout(m);

  UniqueFd parent(open_parent(m.path, true));
  if (!parent) return entry_error(m, errno);
  struct stat old {};
  bool exists = lstat_at(parent.get(), base, &old);
  if (!exists && errno != ENOENT) return entry_error(m, "stat", errno);
  if (m.hardlink) return apply_hardlink(m, parent.get(), exists);

  // Anything in the way goes, except a directory that a directory entry merges into.
  if (exists && !(S_ISDIR(old.st_mode) && m.type == AE_IFDIR)) {
    if (auto st = sdk::fs::remove_tree_at(parent.get(), base); !st) {
      return std::move(st).error().wrap("apply layer: entry \"" + m.name + "\"");
    }
  }
  BERTH_TRY_STATUS(writer_.write(a, e, m, parent.get(), last));
  if (m.type == AE_IFREG) result_.size += m.size;
  record(m.path);
  return {};
}

Result<ApplyResult> Applier::run(Reader& in) {
  // Decompression happens before libarchive, so gzip gets zlib's CRC checks; the stream also
  // hashes, bounds, frames and records the tar.
  TarStream stream(in, options_.limits, options_.recorder);
  BERTH_TRY_STATUS(writer_.read_members(stream, [this](archive* a, archive_entry* e, bool* last) {
    return apply_member(a, e, last);
  }));
  BERTH_TRY_STATUS(writer_.restore_dir_times(root_, resolve_, ""));
  auto diff_id = stream.finish();
  if (!diff_id) return std::move(diff_id).error().wrap("apply layer");
  result_.diff_id = std::move(*diff_id);
  return result_;
}

}  // namespace

Result<ApplyResult> apply_tar(const std::filesystem::path& root, Reader& in,
                              const ApplyOptions& options) {
  auto root_fd = open_root(root);
  if (!root_fd) return std::move(root_fd).error().wrap("apply layer");
  Applier applier(root_fd->get(), options);
  return applier.run(in);
}

}  // namespace berth::core::layer
