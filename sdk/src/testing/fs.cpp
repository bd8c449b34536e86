// Filesystem helpers of the SDK test suites (see testing/fs.hpp).
#include "berth/sdk/testing/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "berth/sdk/mount.hpp"

namespace berth::sdk::testing {
namespace {

Error sys_error(std::string_view what, int err) {
  Error e = errno_error(what, err);
  size_t pos = what.size() + 2;
  if (pos < e.message.size()) {
    e.message[pos] = static_cast<char>(std::tolower(static_cast<unsigned char>(e.message[pos])));
  }
  return e;
}

Status empty_dir(int fd, dev_t dev, const std::string& path);

// A directory on another device that is not a mount point: the root of a btrfs subvolume (each
// has its own st_dev). A storage driver's snapshots can be subvolumes, read-only ones included,
// so rm -rf semantics mean deleting it (BTRFS_IOC_SNAP_DESTROY, which needs CAP_SYS_ADMIN like
// the suites themselves); anything else on another device is a mount and stays refused.
// Returns false when `name` is not such a subvolume.
bool btrfs_subvolume_not_mounted(int dir_fd, const char* name, const struct stat& st) {
  if (st.st_ino != 256) return false;  // BTRFS_FIRST_FREE_OBJECTID: a subvolume's root
  struct statx stx {};
  if (::statx(dir_fd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) return false;
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0 ||
      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0) {
    return false;
  }
  struct statfs sfs {};
  return ::fstatfs(dir_fd, &sfs) == 0 &&
         static_cast<uint32_t>(sfs.f_type) == static_cast<uint32_t>(BTRFS_SUPER_MAGIC);
}

Status delete_btrfs_subvolume(int dir_fd, const std::string& name, dev_t child_dev,
                              const std::string& child) {
  btrfs_ioctl_vol_args args{};
  if (name.size() >= sizeof(args.name)) return sys_error("remove " + child, ENAMETOOLONG);
  name.copy(args.name, name.size());
  if (::ioctl(dir_fd, BTRFS_IOC_SNAP_DESTROY, &args) == 0) return {};
  if (errno != ENOTEMPTY) return sys_error("delete btrfs subvolume " + child, errno);
  // Subvolumes nested in it: empty it first (only possible when it is writable).
  int cfd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0) return sys_error("open " + child, errno);
  BERTH_TRY_STATUS(empty_dir(cfd, child_dev, child));
  if (::ioctl(dir_fd, BTRFS_IOC_SNAP_DESTROY, &args) != 0) {
    return sys_error("delete btrfs subvolume " + child, errno);
  }
  return {};
}

// Empties the directory open as `fd` (on device `dev`), depth first. `path` is for messages.
Status empty_dir(int fd, dev_t dev, const std::string& path) {
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return sys_error("open " + path, err);
  }
  Status result;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  for (const auto& name : names) {
    const std::string child = path + "/" + name;
    struct stat st {};
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      result = sys_error("stat " + child, errno);
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev) {
        if (btrfs_subvolume_not_mounted(::dirfd(dir), name.c_str(), st)) {
          Status s = delete_btrfs_subvolume(::dirfd(dir), name, st.st_dev, child);
          if (!s) {
            result = s;
            break;
          }
          continue;
        }
        result = make_error(ErrorCode::kFailedPrecondition,
                            "remove " + child + ": another filesystem is mounted there");
        break;
      }
      int cfd =
          ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0) {
        result = sys_error("open " + child, errno);
        break;
      }
      Status s = empty_dir(cfd, dev, child);
      if (!s) {
        result = s;
        break;
      }
      if (::unlinkat(::dirfd(dir), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        result = sys_error("remove " + child, errno);
        break;
      }
    } else if (::unlinkat(::dirfd(dir), name.c_str(), 0) != 0 && errno != ENOENT) {
      result = sys_error("remove " + child, errno);
      break;
    }
  }
  ::closedir(dir);
  return result;
}

}  // namespace

Result<TempDir> TempDir::create(const std::string& parent, std::string_view prefix) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  std::string templ = base + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return sys_error("create a directory in " + base, errno);
  char resolved[PATH_MAX];
  if (::realpath(templ.c_str(), resolved) == nullptr) {
    int err = errno;
    ::rmdir(templ.c_str());
    return sys_error("resolve " + templ, err);
  }
  return TempDir(resolved);
}

TempDir::~TempDir() { (void)remove(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    (void)remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

std::string TempDir::sub(std::string_view name) const { return path_ + "/" + std::string(name); }

Status TempDir::remove() {
  if (path_.empty()) return {};
  BERTH_TRY_STATUS(unmount_all(path_));
  BERTH_TRY_STATUS(remove_tree(path_));
  path_.clear();
  return {};
}

Status write_file(const std::string& path, std::string_view content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return sys_error("open " + path, errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return sys_error("write " + path, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return sys_error("close " + path, errno);
  return {};
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path, errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return sys_error("read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status make_dirs(const std::string& path, mode_t mode) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return sys_error("create " + partial, errno);
    }
  }
  return {};
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat " + path, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("remove " + path, errno);
    return {};
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path, errno);
  BERTH_TRY_STATUS(empty_dir(fd, st.st_dev, path));
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return sys_error("remove " + path, errno);
  return {};
}

}  // namespace berth::sdk::testing
