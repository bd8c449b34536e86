#include "core/layer/entry_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/common/logging.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/archive_source.hpp"
#include "core/layer/xattrs.hpp"

namespace berth::core::layer {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<TarMember> EntryWriter::read_member(archive_entry* e) const {
  TarMember m;
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) raw = archive_entry_pathname_utf8(e);
  if (raw == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, op_ + ": entry without a usable name");
  }
  m.name = raw;
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
                        op_ + ": entry \"" + m.name + "\": symlink without a target");
    }
    m.linkname = target;
  }
  m.times.mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  m.times.atime = m.times.mtime;
  if (archive_entry_atime_is_set(e) && archive_entry_atime(e) > archive_entry_mtime(e)) {
    m.times.atime = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
  }
  return m;
}

Error EntryWriter::read_error(archive* a, std::string_view what) const {
  if (source_ != nullptr && source_->error()) {
    return source_->error()->wrap(op_ + ": " + std::string(what));
  }
  const char* msg = archive_error_string(a);
  return make_error(ErrorCode::kInvalidArgument, op_ + ": " + std::string(what) + ": " +
                                                     (msg != nullptr ? msg : "unknown error"));
}

Status EntryWriter::set_owner(const TarMember& m, int fd, int parent) {
  std::optional<EntryOwner> owner = owner_of_(m);
  if (!owner) return {};
  int rc = fd >= 0 ? ::fchown(fd, owner->uid, owner->gid)
                   : ::fchownat(parent, m.path.back().c_str(), owner->uid, owner->gid,
                                AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return step_error_(m, "chown", errno);
  return {};
}

Status EntryWriter::set_xattrs(archive_entry* e, const TarMember& m, int fd, int parent) {
  if (archive_entry_xattr_reset(e) == 0) return {};
  const char* key = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    std::string k(key);
    // overlayfs' own attributes (redirects, metacopy, opacity) must never come from an archive:
    // they would make the kernel reinterpret the layer stack.
    if (starts_with(k, "trusted.overlay.") || starts_with(k, "user.overlay.")) continue;
    std::string v(static_cast<const char*>(value), size);
    Status st = fd >= 0 ? set_xattr_fd(fd, k, v) : set_xattr_at(parent, m.path.back(), k, v);
    if (!st) {
      // As dockerd: a filesystem without xattrs (or a namespace we may not write) loses them
      // with a warning rather than failing the whole archive.
      if (st.error().code == ErrorCode::kUnsupported ||
          st.error().code == ErrorCode::kPermissionDenied) {
        logging::get(log_component_)
            ->warn("{}: entry \"{}\": xattr {} not applied: {}", op_, m.name, k,
                   st.error().message);
        continue;
      }
      return std::move(st).error().wrap(op_ + ": entry \"" + m.name + "\"");
    }
  }
  return {};
}

Status EntryWriter::read_members(Reader& in, const MemberFn& member) {
  ArchivePtr a(archive_read_new());
  if (!a) return make_error(ErrorCode::kResourceExhausted, op_ + ": libarchive");
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  ArchiveSource source(in);
  set_source(&source);
  struct Forget {
    EntryWriter& w;
    ~Forget() { w.set_source(nullptr); }
  } forget{*this};
  if (source.open(a.get()) != ARCHIVE_OK) return read_error(a.get(), "read tar");
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return read_error(a.get(), "read tar");
    bool last = false;
    BERTH_TRY_STATUS(member(a.get(), e, &last));
    if (last) break;
  }
  return {};
}

Result<int64_t> EntryWriter::read_content(archive* a, const TarMember& m, const BlockFn& block, bool* last) {
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
      if (end >= m.size && source_ != nullptr && source_->at_eof() && !source_->error()) {
        *last = true;
        break;
      }
      if (source_ != nullptr && source_->error()) {
        return read_error(a, "entry \"" + m.name + "\"");
      }
      return read_error(a, "entry \"" + m.name + "\": truncated or corrupt data");
    }
    BERTH_TRY_STATUS(block(std::string_view(static_cast<const char*>(buffer), size), offset));
    end = std::max<int64_t>(end, offset + static_cast<int64_t>(size));
  }
  return end;
}

Status EntryWriter::write_content(archive* a, const TarMember& m, int fd, bool* last) {
  auto end = read_content(a, m, [&](std::string_view data, int64_t offset) -> Status {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return step_error_(m, "write", errno);
      }
      done += static_cast<size_t>(n);
    }
    return {};
  }, last);
  if (!end) return std::move(end).error();
  // Sparse members may end in a hole.
  if (*end < m.size && ::ftruncate(fd, m.size) != 0) return step_error_(m, "truncate", errno);
  return {};
}

Status EntryWriter::set_dir_metadata(archive_entry* e, const TarMember& m, int fd) {
  BERTH_TRY_STATUS(set_owner(m, fd, -1));
  BERTH_TRY_STATUS(set_xattrs(e, m, fd, -1));
  if (::fchmod(fd, m.perm) != 0) return step_error_(m, "chmod", errno);
  dir_times_.emplace_back(m.path, m.times);
  return {};
}

Status EntryWriter::write(archive* a, archive_entry* e, const TarMember& m, int parent,
                          bool* last) {
  const char* name = m.path.back().c_str();
  struct timespec ts[2] = {m.times.atime, m.times.mtime};
  switch (m.type) {
    case AE_IFDIR: {
      UniqueFd fd(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) {
        if (errno != ENOENT) return step_error_(m, "open", errno);
        if (::mkdirat(parent, name, 0700) != 0) return step_error_(m, "mkdir", errno);
        fd.reset(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return step_error_(m, "open", errno);
      }
      return set_dir_metadata(e, m, fd.get());
    }
    case AE_IFREG: {
      UniqueFd fd(
          ::openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd) return step_error_(m, "create", errno);
      BERTH_TRY_STATUS(write_content(a, m, fd.get(), last));
      // chown before chmod: chown clears setuid/setgid.
      BERTH_TRY_STATUS(set_owner(m, fd.get(), -1));
      BERTH_TRY_STATUS(set_xattrs(e, m, fd.get(), -1));
      if (::fchmod(fd.get(), m.perm) != 0) return step_error_(m, "chmod", errno);
      if (::futimens(fd.get(), ts) != 0) return step_error_(m, "set times", errno);
      return {};
    }
    case AE_IFLNK: {
      if (::symlinkat(m.linkname.c_str(), parent, name) != 0) {
        return step_error_(m, "symlink", errno);
      }
      BERTH_TRY_STATUS(set_owner(m, -1, parent));
      BERTH_TRY_STATUS(set_xattrs(e, m, -1, parent));
      if (::utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) != 0) {
        return step_error_(m, "set times", errno);
      }
      return {};
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      if (::mknodat(parent, name, m.type | 0600, m.rdev) != 0) {
        return step_error_(m, "mknod", errno);
      }
      BERTH_TRY_STATUS(set_owner(m, -1, parent));
      BERTH_TRY_STATUS(set_xattrs(e, m, -1, parent));
      // Just created by mknod in a directory only we write: not a symlink to follow.
      if (::fchmodat(parent, name, m.perm, 0) != 0) return step_error_(m, "chmod", errno);
      if (::utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) != 0) {
        return step_error_(m, "set times", errno);
      }
      return {};
    }
    default:
      // Sockets and unknown types cannot be meaningfully unpacked.
      logging::get(log_component_)
          ->debug("{}: entry \"{}\": skipping type {:o}", op_, m.name, m.type);
      return {};
  }
}

Status EntryWriter::restore_dir_times(int root_fd, uint64_t resolve,
                                      std::string_view shown_prefix) {
  for (const auto& [path, times] : dir_times_) {
    // O_NOFOLLOW: a directory replaced later by a symlink is skipped, not followed.
    UniqueFd fd(open_dir_fd(root_fd, path, path.size(), resolve, O_RDONLY | O_NOFOLLOW));
    if (!fd) continue;  // removed or replaced by a later entry
    struct timespec ts[2] = {times.atime, times.mtime};
    if (::futimens(fd.get(), ts) != 0) {
      return errno_error(op_ + ": set times of \"" + std::string(shown_prefix) + join_path(path) +
                         "\"");
    }
  }
  return {};
}

}  // namespace berth::core::layer
