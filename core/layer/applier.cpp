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

#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/archive_source.hpp"
#include "core/layer/compression.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/xattrs.hpp"

namespace berth::core::layer {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Hashes what passes through, for the DiffID.
class HashingReader final : public Reader {
 public:
  explicit HashingReader(Reader& in) : in_(in) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    auto n = in_.read(buffer, capacity);
    if (n && *n > 0) hash_.update(std::string_view(buffer, *n));
    return n;
  }
  // Reads what nobody consumed yet so the digest covers the whole stream.
  Status drain() {
    std::string buffer(1 << 16, '\0');
    for (;;) {
      auto n = read(buffer.data(), buffer.size());
      if (!n) return std::move(n).error();
      if (*n == 0) return {};
    }
  }
  std::string digest() { return hash_.digest(); }

 private:
  Reader& in_;
  Sha256 hash_;
};

struct Times {
  struct timespec atime;
  struct timespec mtime;
};

// What a member asks for, independent of libarchive.
struct Member {
  std::string name;  // as in the tar, for messages
  PathParts parts;
  mode_t type = 0;  // AE_IF* (same values as S_IF*)
  mode_t perm = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;
  dev_t rdev = 0;
  std::string linkname;
  bool hardlink = false;
  Times times{};
};

class Applier {
 public:
  Applier(int root_fd, const ApplyOptions& options)
      : root_(root_fd),
        options_(options),
        resolve_(options.resolve_in_root ? RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
                                         : kResolveBeneath) {}

  Result<ApplyResult> run(Reader& in);

 private:
  Status apply_member(archive* a, archive_entry* e, bool* last);
  Status apply_root(archive_entry* e, const Member& m);
  Status apply_whiteout(const Member& m);
  Status apply_opaque(const Member& m);
  Status apply_hardlink(const Member& m, int parent, bool exists);
  Status apply_node(archive* a, archive_entry* e, const Member& m, int parent, bool* last);
  Status write_content(archive* a, const Member& m, int fd, bool* last);
  Status clear_opaque(int dirfd, const std::string& rel);

  // The parent directory of a member, created (0755) when missing if `create`. -1 with errno.
  int open_parent(const PathParts& parts, bool create);

  Status set_owner_fd(const Member& m, int fd);
  Status set_owner_at(const Member& m, int parent);
  Status set_xattrs(archive_entry* e, const Member& m, int fd, int parent);
  Status restore_dir_times();

  void record(const PathParts& parts);

  Error entry_error(const Member& m, int err) const;
  Error entry_error(const Member& m, std::string_view what, int err) const;
  Error read_error(archive* a, std::string_view what) const;

  int root_;
  const ApplyOptions& options_;
  uint64_t resolve_;
  ArchiveSource* source_ = nullptr;
  ApplyResult result_;
  // Paths this layer created, and their ancestors: an opaque directory keeps those.
  std::unordered_set<std::string> unpacked_;
  std::unordered_set<std::string> ancestors_;
  // Directory times are set last: writing their contents changes them.
  std::vector<std::pair<PathParts, Times>> dir_times_;
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

Error Applier::read_error(archive* a, std::string_view what) const {
  if (source_->error()) return source_->error()->wrap("apply layer: " + std::string(what));
  const char* msg = archive_error_string(a);
  return make_error(ErrorCode::kInvalidArgument, "apply layer: " + std::string(what) + ": " +
                                                     (msg != nullptr ? msg : "unknown error"));
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

Status Applier::set_owner_fd(const Member& m, int fd) {
  if (!options_.preserve_owner) return {};
  if (::fchown(fd, static_cast<uid_t>(m.uid), static_cast<gid_t>(m.gid)) != 0) {
    return entry_error(m, "chown", errno);
  }
  return {};
}

Status Applier::set_owner_at(const Member& m, int parent) {
  if (!options_.preserve_owner) return {};
  if (::fchownat(parent, m.parts.back().c_str(), static_cast<uid_t>(m.uid),
                 static_cast<gid_t>(m.gid), AT_SYMLINK_NOFOLLOW) != 0) {
    return entry_error(m, "chown", errno);
  }
  return {};
}

// After chown (which clears security.capability) and before chmod.
Status Applier::set_xattrs(archive_entry* e, const Member& m, int fd, int parent) {
  if (archive_entry_xattr_reset(e) == 0) return {};
  const char* key = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    std::string k(key);
    // overlayfs' own attributes (redirects, metacopy, opacity) must never come from an image:
    // they would make the kernel reinterpret the layer stack.
    if (starts_with(k, "trusted.overlay.") || starts_with(k, "user.overlay.")) continue;
    std::string v(static_cast<const char*>(value), size);
    Status st = fd >= 0 ? set_xattr_fd(fd, k, v) : set_xattr_at(parent, m.parts.back(), k, v);
    if (!st) {
      // As dockerd: a filesystem without xattrs (or a namespace we may not write) loses them
      // with a warning rather than failing the pull.
      if (st.error().code == ErrorCode::kUnsupported ||
          st.error().code == ErrorCode::kPermissionDenied) {
        logging::get("layer")->warn("apply layer: entry \"{}\": xattr {} not applied: {}", m.name,
                                    k, st.error().message);
        continue;
      }
      return std::move(st).error().wrap("apply layer: entry \"" + m.name + "\"");
    }
  }
  return {};
}

Status Applier::clear_opaque(int dirfd, const std::string& rel) {
  auto names = list_dir(dirfd);
  if (!names) return std::move(names).error().wrap("apply layer: opaque directory \"" + rel + "\"");
  for (const auto& name : *names) {
    std::string path = rel.empty() ? name : rel + "/" + name;
    bool kept = unpacked_.contains(path);
    bool ancestor = ancestors_.contains(path);
    if (!kept && !ancestor) {
      if (auto st = remove_all_at(dirfd, name); !st) {
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
  PathParts dir(m.parts.begin(), m.parts.end() - 1);
  if (options_.whiteouts == WhiteoutMode::kOverlay) {
    UniqueFd parent(open_parent(m.parts, true));
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
  std::string target = m.parts.back().substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..") {
    return make_error(ErrorCode::kInvalidArgument,
                      "apply layer: entry \"" + m.name + "\": invalid whiteout");
  }
  if (options_.whiteouts == WhiteoutMode::kOverlay) {
    UniqueFd parent(open_parent(m.parts, true));
    if (!parent) return entry_error(m, errno);
    BERTH_TRY_STATUS(remove_all_at(parent.get(), target));
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
  UniqueFd parent(open_parent(m.parts, false));
  if (!parent) {
    if (errno == ENOENT || errno == ENOTDIR) return {};  // already absent
    return entry_error(m, errno);
  }
  if (auto st = remove_all_at(parent.get(), target); !st) {
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
  if (*target == m.parts) return {};  // a link to itself: the file is already there
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
    if (auto st = remove_all_at(parent, m.parts.back()); !st) {
      return std::move(st).error().wrap("apply layer: entry \"" + m.name + "\"");
    }
  }
  // Flags 0: a target that is a symlink is linked itself, never followed.
  if (::linkat(target_parent.get(), target->back().c_str(), parent, m.parts.back().c_str(), 0) !=
      0) {
    if (errno == ENOENT) {
      return make_error(ErrorCode::kNotFound, "apply layer: hard link \"" + m.name +
                                                  "\": target \"" + m.linkname + "\" not found");
    }
    return entry_error(m, "link", errno);
  }
  record(m.parts);
  return {};
}

Status Applier::write_content(archive* a, const Member& m, int fd, bool* last) {
  int64_t end = 0;
  for (;;) {
    const void* buffer = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(a, &buffer, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      // A tar that simply stops after its last member's data (no padding, no end blocks) is
      // still complete: libarchive only fails while skipping the missing padding.
      if (end >= m.size && source_->at_eof() && !source_->error()) {
        *last = true;
        break;
      }
      if (source_->error()) return read_error(a, "entry \"" + m.name + "\"");
      const char* msg = archive_error_string(a);
      return make_error(ErrorCode::kInvalidArgument, "apply layer: entry \"" + m.name +
                                                         "\": truncated or corrupt data: " +
                                                         (msg != nullptr ? msg : "unknown error"));
    }
    const char* p = static_cast<const char*>(buffer);
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd, p + done, size - done, offset + static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return entry_error(m, "write", errno);
      }
      done += static_cast<size_t>(n);
    }
    end = std::max<int64_t>(end, offset + static_cast<int64_t>(size));
  }
  // Sparse members may end in a hole.
  if (end < m.size && ::ftruncate(fd, m.size) != 0) return entry_error(m, "truncate", errno);
  result_.size += m.size;
  return {};
}

Status Applier::apply_node(archive* a, archive_entry* e, const Member& m, int parent, bool* last) {
  const std::string& base = m.parts.back();
  const char* name = base.c_str();
  switch (m.type) {
    case AE_IFDIR: {
      UniqueFd fd(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) {
        if (errno != ENOENT) return entry_error(m, "open", errno);
        if (::mkdirat(parent, name, 0700) != 0) return entry_error(m, "mkdir", errno);
        fd.reset(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return entry_error(m, "open", errno);
      }
      BERTH_TRY_STATUS(set_owner_fd(m, fd.get()));
      BERTH_TRY_STATUS(set_xattrs(e, m, fd.get(), -1));
      if (::fchmod(fd.get(), m.perm) != 0) return entry_error(m, "chmod", errno);
      dir_times_.emplace_back(m.parts, m.times);
      return {};
    }
    case AE_IFREG: {
      UniqueFd fd(
          ::openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd) return entry_error(m, "create", errno);
      BERTH_TRY_STATUS(write_content(a, m, fd.get(), last));
      BERTH_TRY_STATUS(set_owner_fd(m, fd.get()));
      BERTH_TRY_STATUS(set_xattrs(e, m, fd.get(), -1));
      if (::fchmod(fd.get(), m.perm) != 0) return entry_error(m, "chmod", errno);
      struct timespec ts[2] = {m.times.atime, m.times.mtime};
      if (::futimens(fd.get(), ts) != 0) return entry_error(m, "set times", errno);
      return {};
    }
    case AE_IFLNK: {
      if (::symlinkat(m.linkname.c_str(), parent, name) != 0) {
        return entry_error(m, "symlink", errno);
      }
      BERTH_TRY_STATUS(set_owner_at(m, parent));
      BERTH_TRY_STATUS(set_xattrs(e, m, -1, parent));
      struct timespec ts[2] = {m.times.atime, m.times.mtime};
      if (::utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) != 0) {
        return entry_error(m, "set times", errno);
      }
      return {};
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      if (::mknodat(parent, name, m.type | 0600, m.rdev) != 0) {
        return entry_error(m, "mknod", errno);
      }
      BERTH_TRY_STATUS(set_owner_at(m, parent));
      BERTH_TRY_STATUS(set_xattrs(e, m, -1, parent));
      // Just created by mknod in a directory only we write: not a symlink to follow.
      if (::fchmodat(parent, name, m.perm, 0) != 0) return entry_error(m, "chmod", errno);
      struct timespec ts[2] = {m.times.atime, m.times.mtime};
      if (::utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) != 0) {
        return entry_error(m, "set times", errno);
      }
      return {};
    }
    default:
      // Sockets and unknown types cannot be meaningfully unpacked.
      logging::get("layer")->debug("apply layer: entry \"{}\": skipping type {:o}", m.name, m.type);
      return {};
  }
}

Status Applier::apply_root(archive_entry* e, const Member& m) {
  if (m.type != AE_IFDIR || m.hardlink) return {};
  UniqueFd fd(open_dir_fd(root_, m.parts, 0, resolve_, O_RDONLY));
  if (!fd) return entry_error(m, "open", errno);
  BERTH_TRY_STATUS(set_owner_fd(m, fd.get()));
  BERTH_TRY_STATUS(set_xattrs(e, m, fd.get(), -1));
  if (::fchmod(fd.get(), m.perm) != 0) return entry_error(m, "chmod", errno);
  dir_times_.emplace_back(m.parts, m.times);
  return {};
}

Status Applier::apply_member(archive* a, archive_entry* e, bool* last) {
  Member m;
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) raw = archive_entry_pathname_utf8(e);
  if (raw == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "apply layer: entry without a usable name");
  }
  m.name = raw;
  auto parts = clean_path(m.name);
  if (!parts) {
    return make_error(ErrorCode::kInvalidArgument,
                      "apply layer: entry \"" + m.name + "\" escapes the layer root");
  }
  m.parts = std::move(*parts);
  ++result_.entries;

  const char* hardlink = archive_entry_hardlink(e);
  if (hardlink == nullptr) hardlink = archive_entry_hardlink_utf8(e);
  m.hardlink = hardlink != nullptr;
  if (m.hardlink) m.linkname = hardlink;
  m.type = archive_entry_filetype(e);
  m.perm = archive_entry_perm(e) & 07777;
  m.uid = archive_entry_uid(e);
  m.gid = archive_entry_gid(e);
  m.size = archive_entry_size(e);
  m.rdev = archive_entry_rdev(e);
  if (m.type == AE_IFLNK && !m.hardlink) {
    const char* target = archive_entry_symlink(e);
    if (target == nullptr) target = archive_entry_symlink_utf8(e);
    if (target == nullptr) {
      return make_error(ErrorCode::kInvalidArgument,
                        "apply layer: entry \"" + m.name + "\": symlink without a target");
    }
    m.linkname = target;
  }
  m.times.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  m.times.atime = m.times.mtime;
  if (archive_entry_atime_is_set(e) && archive_entry_atime(e) > archive_entry_mtime(e)) {
    m.times.atime = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
  }

  if (m.parts.empty()) return apply_root(e, m);
  // aufs metadata (".wh..wh.plnk", ".wh..wh.aufs") at the top of old layers is not content.
  if (starts_with(m.parts.front(), kWhiteoutMetaPrefix) &&
      !(m.parts.size() == 1 && m.parts.front() == kWhiteoutOpaqueDir)) {
    return {};
  }
  const std::string& base = m.parts.back();
  if (base == kWhiteoutOpaqueDir) return apply_opaque(m);
  if (starts_with(base, kWhiteoutPrefix)) return apply_whiteout(m);

  UniqueFd parent(open_parent(m.parts, true));
  if (!parent) return entry_error(m, errno);
  struct stat old {};
  bool exists = lstat_at(parent.get(), base, &old);
  if (!exists && errno != ENOENT) return entry_error(m, "stat", errno);
  if (m.hardlink) return apply_hardlink(m, parent.get(), exists);

  // Anything in the way goes, except a directory that a directory entry merges into.
  if (exists && !(S_ISDIR(old.st_mode) && m.type == AE_IFDIR)) {
    if (auto st = remove_all_at(parent.get(), base); !st) {
      return std::move(st).error().wrap("apply layer: entry \"" + m.name + "\"");
    }
  }
  BERTH_TRY_STATUS(apply_node(a, e, m, parent.get(), last));
  record(m.parts);
  return {};
}

Status Applier::restore_dir_times() {
  for (const auto& [parts, times] : dir_times_) {
    // O_NOFOLLOW: a directory replaced later by a symlink is skipped, not followed.
    UniqueFd fd(open_dir_fd(root_, parts, parts.size(), resolve_, O_RDONLY | O_NOFOLLOW));
    if (!fd) continue;  // removed by a later whiteout or replaced by another type
    struct timespec ts[2] = {times.atime, times.mtime};
    if (::futimens(fd.get(), ts) != 0) {
      return errno_error("apply layer: set times of \"" + join_path(parts) + "\"");
    }
  }
  return {};
}

Result<ApplyResult> Applier::run(Reader& in) {
  ArchivePtr a(archive_read_new());
  if (!a) return make_error(ErrorCode::kResourceExhausted, "apply layer: libarchive");
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  // Decompression happens before libarchive, so gzip gets zlib's CRC checks.
  DecompressReader plain(in);
  HashingReader hashed(plain);
  ArchiveSource source(hashed);
  source_ = &source;
  if (source.open(a.get()) != ARCHIVE_OK) return read_error(a.get(), "read tar");
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return read_error(a.get(), "read tar");
    bool last = false;
    BERTH_TRY_STATUS(apply_member(a.get(), e, &last));
    if (last) break;
  }
  BERTH_TRY_STATUS(restore_dir_times());
  if (auto st = hashed.drain(); !st) return std::move(st).error().wrap("apply layer: read tar");
  result_.diff_id = hashed.digest();
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
