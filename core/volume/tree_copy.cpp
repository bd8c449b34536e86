#include "core/volume/tree_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <utility>

#include "berth/sdk/fs.hpp"
#include "core/common/logging.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/xattrs.hpp"

namespace berth::core::volume {
namespace {

using layer::Xattrs;

Error step_error(std::string_view what, const std::string& rel, int err = errno) {
  return errno_error("copy \"" + rel + "\": " + std::string(what), err);
}

Status copy_data(int in, int out, const std::string& rel) {
  // copy_file_range first (reflinks and in-kernel copies); plain read/write where the kernel
  // or the filesystem pair cannot do it.
  bool fallback = false;
  for (;;) {
    if (!fallback) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
      if (n > 0) continue;
      if (n == 0) return {};
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
          errno != EPERM) {
        return step_error("copy data", rel);
      }
      fallback = true;
    }
    char buffer[1 << 16];
    ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return step_error("read", rel);
    }
    if (n == 0) return {};
    ssize_t done = 0;
    while (done < n) {
      ssize_t w = ::write(out, buffer + done, static_cast<size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return step_error("write", rel);
      }
      done += w;
    }
  }
}

class Copier {
 public:
  explicit Copier(int dst_root) : dst_root_(dst_root) {}

  Status copy_children(int src_dir, int dst_dir, const std::string& prefix);

 private:
  Status copy_entry(int src_dir, int dst_dir, const std::string& name, const std::string& rel);
  Status set_xattrs(const Xattrs& xattrs, int fd, int dirfd, const std::string& name,
                    const std::string& rel);
  Status link_existing(const std::string& first, int dst_dir, const std::string& name,
                       const std::string& rel);

  int dst_root_;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes_;
};

Status Copier::set_xattrs(const Xattrs& xattrs, int fd, int dirfd, const std::string& name,
                          const std::string& rel) {
  for (const auto& [key, value] : xattrs) {
    Status st = fd >= 0 ? layer::set_xattr_fd(fd, key, value)
                        : layer::set_xattr_at(dirfd, name, key, value);
    if (!st) {
      // As dockerd's copy: a destination filesystem without xattr support loses them.
      if (st.error().code == ErrorCode::kUnsupported ||
          st.error().code == ErrorCode::kPermissionDenied) {
        logging::get("volume")->warn("copy \"{}\": xattr {} not copied: {}", rel, key,
                                     st.error().message);
        continue;
      }
      return std::move(st).error().wrap("copy \"" + rel + "\"");
    }
  }
  return {};
}

Status Copier::link_existing(const std::string& first, int dst_dir, const std::string& name,
                             const std::string& rel) {
  auto parts = layer::clean_path(first);
  if (!parts || parts->empty()) return make_error(ErrorCode::kInternal, "copy: bad link " + first);
  // The earlier copy lives in the tree we are building: resolve it beneath that tree, through
  // no symlink, so a link planted meanwhile cannot make us link an outside file.
  UniqueFd parent(layer::open_dir_fd(dst_root_, *parts, parts->size() - 1,
                                     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS));
  if (!parent) return step_error("hard link", rel);
  if (::linkat(parent.get(), parts->back().c_str(), dst_dir, name.c_str(), 0) != 0) {
    return step_error("hard link", rel);
  }
  return {};
}

Status Copier::copy_entry(int src_dir, int dst_dir, const std::string& name,
                          const std::string& rel) {
  struct stat st {};
  if (!layer::lstat_at(src_dir, name, &st)) {
    if (errno == ENOENT) return {};  // gone since the listing
    return step_error("stat", rel);
  }
  if (S_ISSOCK(st.st_mode)) return {};  // a socket is not content

  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    auto [it, first] = inodes_.try_emplace({st.st_dev, st.st_ino}, rel);
    if (!first) return link_existing(it->second, dst_dir, name, rel);
  }
  const mode_t perm = st.st_mode & 07777;
  struct timespec times[2] = {st.st_atim, st.st_mtim};

  if (S_ISDIR(st.st_mode)) {
    UniqueFd src(::openat(src_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!src) return step_error("open directory", rel);
    if (::mkdirat(dst_dir, name.c_str(), 0700) != 0) return step_error("mkdir", rel);
    UniqueFd dst(::openat(dst_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dst) return step_error("open directory", rel);
    BERTH_TRY_STATUS(copy_children(src.get(), dst.get(), rel));
    if (::fchown(dst.get(), st.st_uid, st.st_gid) != 0) return step_error("chown", rel);
    auto xattrs = layer::read_xattrs_fd(src.get());
    if (!xattrs) return std::move(xattrs).error().wrap("copy \"" + rel + "\"");
    BERTH_TRY_STATUS(set_xattrs(layer::portable(std::move(*xattrs)), dst.get(), -1, name, rel));
    if (::fchmod(dst.get(), perm) != 0) return step_error("chmod", rel);
    // Last: writing the children changed the directory's times.
    if (::futimens(dst.get(), times) != 0) return step_error("set times", rel);
    return {};
  }

  if (S_ISREG(st.st_mode)) {
    // O_NONBLOCK: a name swapped for a fifo since the lstat must not hang the copy.
    UniqueFd src(::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!src) return step_error("open", rel);
    struct stat now {};
    if (::fstat(src.get(), &now) != 0) return step_error("stat", rel);
    if (!S_ISREG(now.st_mode)) return {};  // replaced meanwhile: not the file we listed
    UniqueFd dst(::openat(dst_dir, name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!dst) return step_error("create", rel);
    BERTH_TRY_STATUS(copy_data(src.get(), dst.get(), rel));
    // chown before chmod: chown clears setuid/setgid.
    if (::fchown(dst.get(), st.st_uid, st.st_gid) != 0) return step_error("chown", rel);
    auto xattrs = layer::read_xattrs_fd(src.get());
    if (!xattrs) return std::move(xattrs).error().wrap("copy \"" + rel + "\"");
    BERTH_TRY_STATUS(set_xattrs(layer::portable(std::move(*xattrs)), dst.get(), -1, name, rel));
    if (::fchmod(dst.get(), perm) != 0) return step_error("chmod", rel);
    if (::futimens(dst.get(), times) != 0) return step_error("set times", rel);
    return {};
  }

  if (S_ISLNK(st.st_mode)) {
    auto target = sdk::fs::read_link_at(src_dir, name);
    if (!target) return std::move(target).error().wrap("copy \"" + rel + "\"");
    if (::symlinkat(target->c_str(), dst_dir, name.c_str()) != 0) {
      return step_error("symlink", rel);
    }
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
    if (::mknodat(dst_dir, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) != 0) {
      return step_error("mknod", rel);
    }
  } else {
    return {};
  }
  if (::fchownat(dst_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return step_error("chown", rel);
  }
  auto xattrs = layer::read_xattrs_at(src_dir, name);
  if (!xattrs) return std::move(xattrs).error().wrap("copy \"" + rel + "\"");
  BERTH_TRY_STATUS(set_xattrs(layer::portable(std::move(*xattrs)), -1, dst_dir, name, rel));
  // A symlink has no mode of its own on Linux; the node we just made is no symlink.
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dir, name.c_str(), perm, 0) != 0) {
    return step_error("chmod", rel);
  }
  if (::utimensat(dst_dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return step_error("set times", rel);
  }
  return {};
}

Status Copier::copy_children(int src_dir, int dst_dir, const std::string& prefix) {
  auto names = layer::list_dir(src_dir);
  if (!names) return std::move(names).error().wrap("copy \"" + prefix + "\"");
  for (const auto& name : *names) {
    BERTH_TRY_STATUS(
        copy_entry(src_dir, dst_dir, name, prefix.empty() ? name : prefix + "/" + name));
  }
  return {};
}

}  // namespace

Status copy_tree(int src_fd, int dst_fd) {
  Copier copier(dst_fd);
  return copier.copy_children(src_fd, dst_fd, "");
}

Status copy_owner_and_mode(int src_fd, int dst_fd) {
  struct stat st {};
  if (::fstat(src_fd, &st) != 0) return errno_error("copy owner: stat source");
  // Through /proc/self/fd: dst_fd may be O_PATH, which fchown/fchmod refuse.
  std::string path = layer::proc_path(dst_fd, "");
  if (::chown(path.c_str(), st.st_uid, st.st_gid) != 0) return errno_error("copy owner: chown");
  if (::chmod(path.c_str(), st.st_mode & 07777) != 0) return errno_error("copy owner: chmod");
  return {};
}

}  // namespace berth::core::volume
