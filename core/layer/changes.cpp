#include "core/layer/changes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>
#include <string>

#include "berth/sdk/fs.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/applier.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/tree_writer.hpp"
#include "core/layer/xattrs.hpp"

namespace berth::core::layer {
namespace {

std::string to_path(const PathParts& parts) { return "/" + join_path(parts); }

UniqueFd open_child_dir(int dirfd, const std::string& name) {
  return UniqueFd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool has_yes_xattr(int fd, const char* key) {
  char value[2] = {};
  ssize_t n = ::fgetxattr(fd, key, value, sizeof value);
  return n == 1 && value[0] == 'y';
}

bool is_opaque(int dirfd) {
  return has_yes_xattr(dirfd, "trusted.overlay.opaque") ||
         has_yes_xattr(dirfd, "user.overlay.opaque");
}

// moby's sameFsTime: equal, or equal seconds where one side lost its nanoseconds.
bool same_time(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && (a.tv_nsec == b.tv_nsec || a.tv_nsec == 0 || b.tv_nsec == 0);
}

void sort_unique(std::vector<Change>& changes) {
  std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    return a.path < b.path || (a.path == b.path && a.kind < b.kind);
  });
  changes.erase(std::unique(changes.begin(), changes.end(),
                            [](const Change& a, const Change& b) { return a.path == b.path; }),
                changes.end());
}

// ---- overlay upperdir -------------------------------------------------------------------------

class OverlayDiff {
 public:
  Status open_lowers(const std::vector<std::filesystem::path>& lowers) {
    for (const auto& lower : lowers) {
      auto fd = open_root(lower);
      if (!fd) return std::move(fd).error();
      lowers_.push_back(std::move(*fd));
    }
    return {};
  }

  Status walk(int dirfd, PathParts& rel, bool in_opaque);
  std::vector<Change> take() { return std::move(changes_); }

 private:
  // The entry at `parts` in the merged view of the lowers (whiteouts and opaque directories of
  // upper lowers hide the ones below), or nullopt.
  std::optional<struct stat> lookup(const PathParts& parts) const;
  // Every name any lower has in directory `parts` (a superset: filter with lookup()).
  std::set<std::string> lower_names(const PathParts& parts) const;

  void add(const std::string& path, Change::Kind kind) { changes_.push_back({path, kind}); }
  // The directory holding an addition or deletion shows as Modified.
  void note_parent(const std::string& path) {
    std::string parent = path.substr(0, path.rfind('/'));
    if (parent.empty() || changed_dirs_.contains(parent)) return;
    add(parent, Change::kModified);
    changed_dirs_.insert(parent);
  }

  std::vector<UniqueFd> lowers_;
  std::vector<Change> changes_;
  std::set<std::string> changed_dirs_;
};

std::optional<struct stat> OverlayDiff::lookup(const PathParts& parts) const {
  for (const auto& lower : lowers_) {
    UniqueFd hold;
    int current = lower.get();
    bool blocked = false;
    for (size_t i = 0; i < parts.size(); ++i) {
      struct stat st {};
      if (!lstat_at(current, parts[i], &st)) break;
      if (is_whiteout(st)) return std::nullopt;
      if (i + 1 == parts.size()) return st;
      if (!S_ISDIR(st.st_mode)) return std::nullopt;
      UniqueFd next = open_child_dir(current, parts[i]);
      if (!next) break;
      if (is_opaque(next.get())) blocked = true;
      hold = std::move(next);
      current = hold.get();
    }
    if (blocked) return std::nullopt;
  }
  return std::nullopt;
}

std::set<std::string> OverlayDiff::lower_names(const PathParts& parts) const {
  std::set<std::string> names;
  for (const auto& lower : lowers_) {
    UniqueFd hold(::openat(lower.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (const auto& part : parts) {
      if (!hold) break;
      hold = open_child_dir(hold.get(), part);
    }
    if (!hold) continue;
    if (auto listed = list_dir(hold.get())) names.insert(listed->begin(), listed->end());
  }
  return names;
}

Status OverlayDiff::walk(int dirfd, PathParts& rel, bool in_opaque) {
  auto names = list_dir(dirfd);
  if (!names) return std::move(names).error().wrap("overlay changes: " + to_path(rel));
  for (const auto& name : *names) {
    rel.push_back(name);
    std::string path = to_path(rel);
    struct stat st {};
    if (!lstat_at(dirfd, name, &st)) {
      rel.pop_back();
      if (errno == ENOENT) continue;
      return errno_error("overlay changes: stat " + path);
    }
    if (is_whiteout(st)) {
      add(path, Change::kDeleted);
      note_parent(path);
      rel.pop_back();
      continue;
    }
    auto lower = lookup(rel);
    bool dir = S_ISDIR(st.st_mode);
    UniqueFd child;
    bool opaque = false;
    if (dir) {
      child = open_child_dir(dirfd, name);
      if (!child) return errno_error("overlay changes: open " + path);
      opaque = is_opaque(child.get());
    }
    bool lower_dir = lower && S_ISDIR(lower->st_mode);
    // A directory copied up only because something below it changed is not itself a change.
    bool unchanged_dir = dir && lower_dir && !opaque && st.st_size == lower->st_size &&
                         st.st_mode == lower->st_mode && st.st_uid == lower->st_uid &&
                         st.st_gid == lower->st_gid && same_time(st.st_mtim, lower->st_mtim);
    if (!unchanged_dir) {
      Change::Kind kind = lower ? Change::kModified : Change::kAdded;
      add(path, kind);
      if (dir) changed_dirs_.insert(path);
      if (kind == Change::kAdded) note_parent(path);
    }
    if (dir) {
      if ((opaque || in_opaque) && lower_dir) {
        for (const auto& hidden : lower_names(rel)) {
          struct stat upper_st {};
          if (lstat_at(child.get(), hidden, &upper_st)) continue;
          rel.push_back(hidden);
          bool visible = lookup(rel).has_value();
          rel.pop_back();
          if (!visible) continue;
          add(path + "/" + hidden, Change::kDeleted);
          note_parent(path + "/" + hidden);
        }
      }
      BERTH_TRY_STATUS(walk(child.get(), rel, opaque || in_opaque));
    }
    rel.pop_back();
  }
  return {};
}

// ---- two trees --------------------------------------------------------------------------------

class TreeDiff {
 public:
  // True when anything below changed.
  Result<bool> walk(int old_dir, int new_dir, PathParts& rel);
  std::vector<Change> take() { return std::move(changes_); }

 private:
  Result<bool> differs(int old_dir, int new_dir, const std::string& name, const struct stat& a,
                       const struct stat& b) const;

  std::vector<Change> changes_;
};

Result<bool> TreeDiff::differs(int old_dir, int new_dir, const std::string& name,
                               const struct stat& a, const struct stat& b) const {
  if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid ||
      a.st_rdev != b.st_rdev) {
    return true;
  }
  if (!S_ISDIR(a.st_mode) && (a.st_size != b.st_size || !same_time(a.st_mtim, b.st_mtim))) {
    return true;
  }
  if (S_ISLNK(a.st_mode)) {
    auto ta = sdk::fs::read_link_at(old_dir, name);
    auto tb = sdk::fs::read_link_at(new_dir, name);
    if (!ta) return std::move(ta).error();
    if (!tb) return std::move(tb).error();
    if (*ta != *tb) return true;
  }
  auto xa = read_xattrs_at(old_dir, name);
  auto xb = read_xattrs_at(new_dir, name);
  if (!xa) return std::move(xa).error();
  if (!xb) return std::move(xb).error();
  return portable(std::move(*xa)) != portable(std::move(*xb));
}

Result<bool> TreeDiff::walk(int old_dir, int new_dir, PathParts& rel) {
  std::set<std::string> names;
  auto new_names = list_dir(new_dir);
  if (!new_names) return std::move(new_names).error().wrap("tree changes: " + to_path(rel));
  names.insert(new_names->begin(), new_names->end());
  if (old_dir >= 0) {
    auto old_names = list_dir(old_dir);
    if (!old_names) return std::move(old_names).error().wrap("tree changes: " + to_path(rel));
    names.insert(old_names->begin(), old_names->end());
  }
  bool changed = false;
  for (const auto& name : names) {
    rel.push_back(name);
    std::string path = to_path(rel);
    struct stat os {};
    struct stat ns {};
    bool in_old = old_dir >= 0 && lstat_at(old_dir, name, &os);
    bool in_new = lstat_at(new_dir, name, &ns);
    if (!in_new) {
      changes_.push_back({path, Change::kDeleted});
      changed = true;
      rel.pop_back();
      continue;
    }
    bool modified = false;
    if (!in_old) {
      changes_.push_back({path, Change::kAdded});
      changed = true;
    } else {
      auto d = differs(old_dir, new_dir, name, os, ns);
      if (!d) return std::move(d).error().wrap("tree changes: " + path);
      if (*d) {
        changes_.push_back({path, Change::kModified});
        changed = modified = true;
      }
    }
    if (S_ISDIR(ns.st_mode)) {
      UniqueFd new_child = open_child_dir(new_dir, name);
      if (!new_child) return errno_error("tree changes: open " + path);
      UniqueFd old_child;
      if (in_old && S_ISDIR(os.st_mode)) {
        old_child = open_child_dir(old_dir, name);
        if (!old_child) return errno_error("tree changes: open " + path);
      }
      auto below = walk(old_child ? old_child.get() : -1, new_child.get(), rel);
      if (!below) return std::move(below).error();
      if (*below && in_old && !modified) changes_.push_back({path, Change::kModified});
      changed = changed || *below;
    }
    rel.pop_back();
  }
  return changed;
}

}  // namespace

std::string_view change_kind_letter(Change::Kind kind) {
  switch (kind) {
    case Change::kModified:
      return "C";
    case Change::kAdded:
      return "A";
    case Change::kDeleted:
      return "D";
  }
  return "C";
}

Result<std::vector<Change>> overlay_changes(const std::filesystem::path& upper,
                                            const std::vector<std::filesystem::path>& lowers) {
  OverlayDiff diff;
  if (auto st = diff.open_lowers(lowers); !st) return std::move(st).error().wrap("overlay changes");
  UniqueFd upper_fd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!upper_fd) return errno_error("overlay changes: open " + upper.string());
  PathParts rel;
  BERTH_TRY_STATUS(diff.walk(upper_fd.get(), rel, false));
  auto changes = diff.take();
  sort_unique(changes);
  return changes;
}

Result<std::vector<Change>> tree_changes(const std::filesystem::path& base,
                                         const std::filesystem::path& changed) {
  UniqueFd base_fd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!base_fd) return errno_error("tree changes: open " + base.string());
  UniqueFd changed_fd(::open(changed.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!changed_fd) return errno_error("tree changes: open " + changed.string());
  TreeDiff diff;
  PathParts rel;
  auto walked = diff.walk(base_fd.get(), changed_fd.get(), rel);
  if (!walked) return std::move(walked).error();
  auto changes = diff.take();
  sort_unique(changes);
  return changes;
}

Status write_changes_tar(const std::filesystem::path& root, const std::vector<Change>& changes,
                         Writer& out, IdShift ids) {
  auto root_fd = open_root(root);
  if (!root_fd) return std::move(root_fd).error().wrap("write changes");
  std::vector<Change> sorted = changes;
  sort_unique(sorted);

  TreeArchiver archiver(out, ids);
  std::set<std::string> emitted;
  // Entries are read with RESOLVE_NO_SYMLINKS: change paths name real entries, so a symlink on
  // the way means the tree is not the one the changes describe.
  constexpr uint64_t kResolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  auto open_parent = [&](const PathParts& parts, size_t depth) {
    return UniqueFd(open_dir_fd(root_fd->get(), parts, depth, kResolve));
  };

  for (const auto& change : sorted) {
    auto parts = clean_path(change.path);
    if (!parts) return std::move(parts).error().wrap("write changes");
    if (parts->empty()) continue;
    for (size_t depth = 1; depth < parts->size(); ++depth) {
      std::string dir = join_path(*parts, depth);
      if (emitted.contains(dir)) continue;
      UniqueFd parent = open_parent(*parts, depth - 1);
      if (!parent) return path_error("write changes: open", dir, errno);
      BERTH_TRY_STATUS(archiver.add(parent.get(), (*parts)[depth - 1], dir, false));
      emitted.insert(dir);
    }
    UniqueFd parent = open_parent(*parts, parts->size() - 1);
    std::string name = join_path(*parts);
    if (change.kind == Change::kDeleted) {
      int64_t mtime = 0;
      struct stat st {};
      if (parent && lstat_at(parent.get(), "", &st)) mtime = st.st_mtim.tv_sec;
      std::string whiteout = join_path(*parts, parts->size() - 1);
      if (!whiteout.empty()) whiteout += "/";
      whiteout += std::string(kWhiteoutPrefix) + parts->back();
      BERTH_TRY_STATUS(archiver.add_empty_file(whiteout, mtime));
      continue;
    }
    if (!parent) return path_error("write changes: open", name, errno);
    if (emitted.contains(name)) continue;
    BERTH_TRY_STATUS(archiver.add(parent.get(), parts->back(), name, false));
    emitted.insert(name);
  }
  return archiver.finish();
}

}  // namespace berth::core::layer
