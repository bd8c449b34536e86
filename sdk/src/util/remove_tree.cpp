#include <dirent.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "berth/sdk/fs.hpp"
#include "berth/sdk/unique_fd.hpp"

namespace berth::sdk::fs {
namespace {

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

// Where an entry lives. A bind mount of a directory of the same filesystem keeps st_dev, so the
// mount id and the mount-root attribute (Linux >= 5.8) are what tell a mount point; st_dev alone
// is the fallback on older kernels. A btrfs subvolume has its own st_dev but is no mount.
struct Place {
  bool is_dir = false;
  dev_t device = 0;
  uint64_t ino = 0;
  uint64_t mount_id = 0;          // 0: unknown
  bool mount_root_known = false;  // the kernel reports STATX_ATTR_MOUNT_ROOT
  bool mount_root = false;
};

bool locate(int dirfd, const std::string& name, Place* out) {
  struct statx stx {};
  if (::statx(dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO | STATX_MNT_ID,
              &stx) != 0) {
    return false;
  }
  out->is_dir = S_ISDIR(stx.stx_mode);
  out->device = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  out->ino = stx.stx_ino;
  out->mount_id = (stx.stx_mask & STATX_MNT_ID) != 0 ? stx.stx_mnt_id : 0;
  out->mount_root_known = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0;
  out->mount_root = out->mount_root_known && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  return true;
}

bool other_mount(const Place& here, const Place& top) {
  if (here.mount_root) return true;
  if (here.mount_id != 0 && top.mount_id != 0) return here.mount_id != top.mount_id;
  return here.device != top.device && !here.mount_root_known;
}

// The root of a btrfs subvolume (BTRFS_FIRST_FREE_OBJECTID) that is not a mount point.
bool btrfs_subvolume(int dirfd, const std::string& name, const Place& here) {
  if (here.ino != 256 || !here.mount_root_known || here.mount_root) return false;
  UniqueFd fd(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct statfs sfs {};
  return fd && ::fstatfs(fd.get(), &sfs) == 0 &&
         static_cast<uint32_t>(sfs.f_type) == static_cast<uint32_t>(BTRFS_SUPER_MAGIC);
}

Status remove_at(int dirfd, const std::string& name, const Place* top, const std::string& shown);

// Removes every entry of the directory dirfd/name, which is in the mount of `top`.
Status empty_dir(int dirfd, const std::string& name, const Place& top, const std::string& shown) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    return errno_error("open " + shown);
  }
  DIR* dir = ::fdopendir(::dup(fd.get()));
  if (dir == nullptr) return errno_error("list " + shown);
  // The names are collected first so deleting never races the directory stream.
  std::vector<std::string> names;
  errno = 0;
  while (auto* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return errno_error("list " + shown, err);
  for (const auto& n : names) BERTH_TRY_STATUS(remove_at(fd.get(), n, &top, shown + "/" + n));
  return {};
}

// rm -rf semantics for a subvolume of the tree: BTRFS_IOC_SNAP_DESTROY (read-only ones too),
// after emptying it when subvolumes are nested in it (ENOTEMPTY).
Status delete_subvolume(int dirfd, const std::string& name, const Place& here,
                        const std::string& shown) {
  btrfs_ioctl_vol_args args{};
  if (name.size() >= sizeof(args.name)) return errno_error("remove " + shown, ENAMETOOLONG);
  name.copy(args.name, name.size());
  // The ioctl wants a real descriptor of the parent (dirfd may be AT_FDCWD or O_PATH).
  UniqueFd parent(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent) return errno_error("open the directory of " + shown);
  if (::ioctl(parent.get(), BTRFS_IOC_SNAP_DESTROY, &args) == 0) return {};
  if (errno != ENOTEMPTY) return errno_error("delete btrfs subvolume " + shown);
  BERTH_TRY_STATUS(empty_dir(dirfd, name, here, shown));
  if (::ioctl(parent.get(), BTRFS_IOC_SNAP_DESTROY, &args) != 0) {
    return errno_error("delete btrfs subvolume " + shown);
  }
  return {};
}

// Removes dirfd/name, which lies in the mount of `top`; `top` is null for the root of the removal.
// That root may itself be a mount point (what is mounted on it is the caller's to unmount first;
// rmdir then fails with EBUSY); only what is below it must stay in its mount. A subvolume
// (read-only ones too) is deleted whole.
Status remove_at(int dirfd, const std::string& name, const Place* top, const std::string& shown) {
  Place here;
  if (!locate(dirfd, name, &here)) {
    if (errno == ENOENT) return {};
    return errno_error("stat " + shown);
  }
  if (!here.is_dir) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return errno_error("remove " + shown);
    }
    return {};
  }
  if (top != nullptr && other_mount(here, *top)) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "refusing to remove " + shown + ": it is a mount point; unmount it first");
  }
  if ((top == nullptr || here.device != top->device) && btrfs_subvolume(dirfd, name, here)) {
    return delete_subvolume(dirfd, name, here, shown);
  }
  BERTH_TRY_STATUS(empty_dir(dirfd, name, top != nullptr ? *top : here, shown));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return errno_error("remove " + shown);
  }
  return {};
}

}  // namespace

Status remove_tree_at(int dirfd, const std::string& name) {
  return remove_at(dirfd, name, nullptr, name);
}

Status remove_tree(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const auto slash = trimmed.rfind('/');
  if (slash == std::string::npos) return remove_at(AT_FDCWD, trimmed, nullptr, trimmed);
  const std::string base = trimmed.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    return make_error(ErrorCode::kInvalidArgument, "refusing to remove \"" + path + "\"");
  }
  // Through the parent's descriptor, so every step (and a subvolume's ioctl) names the parent.
  const std::string parent = slash == 0 ? "/" : trimmed.substr(0, slash);
  UniqueFd parent_fd(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) {
    if (errno == ENOENT) return {};
    return errno_error("open " + parent);
  }
  return remove_at(parent_fd.get(), base, nullptr, trimmed);
}

}  // namespace berth::sdk::fs
