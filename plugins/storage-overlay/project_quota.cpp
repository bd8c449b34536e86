#include "project_quota.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "fs_util.hpp"

namespace berth::plugins::overlay {
namespace {

using sdk::ErrorCode;
using sdk::make_error;

// quotactl_fd(2) (Linux 5.14): quotactl on the filesystem of an open fd, so no block device node
// has to be made (dockerd mknods one into its root for quotactl(2)).
int quotactl_fd(int fd, unsigned cmd, uint32_t id, void* addr) {
  return static_cast<int>(::syscall(SYS_quotactl_fd, fd, cmd, id, addr));
}

sdk::Result<uint32_t> project_id(int fd, const std::string& path) {
  struct fsxattr attr {};
  if (::ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0) return sys_error("read the project id of " + path, errno);
  return attr.fsx_projid;
}

sdk::Result<uint32_t> project_id_of(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return sys_error("open " + path, errno);
  auto id = project_id(fd, path);
  ::close(fd);
  return id;
}

sdk::Status set_quota(int fs_fd, uint32_t id, uint64_t bytes) {
  fs_disk_quota quota{};
  quota.d_version = FS_DQUOT_VERSION;
  quota.d_id = id;
  quota.d_flags = FS_PROJ_QUOTA;
  quota.d_fieldmask = FS_DQ_BHARD | FS_DQ_BSOFT;
  quota.d_blk_hardlimit = (bytes + 511) / 512;  // in 512-byte basic blocks
  quota.d_blk_softlimit = quota.d_blk_hardlimit;
  if (quotactl_fd(fs_fd, QCMD(Q_XSETQLIM, PRJQUOTA), id, &quota) != 0) {
    return sys_error("set the limit of xfs project " + std::to_string(id), errno);
  }
  return {};
}

}  // namespace

sdk::Result<std::unique_ptr<ProjectQuota>> ProjectQuota::open(const std::string& root,
                                                               const std::string& snapshots_dir) {
  struct statfs st {};
  if (::statfs(root.c_str(), &st) != 0) return sys_error("statfs " + root, errno);
  if (st.f_type != XFS_SUPER_MAGIC) {
    return make_error(ErrorCode::kUnsupported, root + " is not on xfs");
  }
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + root, errno);
  auto close_on_error = [fd](sdk::Error e) -> sdk::Error {
    ::close(fd);
    return e;
  };
  fs_quota_stat stat{};
  if (quotactl_fd(fd, QCMD(Q_XGETQSTAT, PRJQUOTA), 0, &stat) != 0) {
    return close_on_error(
        sys_error("read the project quota state of the xfs filesystem of " + root, errno));
  }
  if ((stat.qs_flags & FS_QUOTA_PDQ_ENFD) == 0) {
    return close_on_error(make_error(
        ErrorCode::kUnsupported,
        "project quotas are not enforced on the xfs filesystem of " + root +
            " (mount it with -o pquota to allow --storage-opt size)"));
  }
  auto base = project_id(fd, root);
  if (!base) return close_on_error(std::move(base).error());
  uint32_t highest = *base;
  if (auto entries = list_dir(snapshots_dir); entries) {
    for (const auto& e : *entries) {
      if (auto id = project_id_of(snapshots_dir + "/" + e); id) highest = std::max(highest, *id);
    }
  }
  // The same check dockerd makes: setting a (zero, i.e. no) limit on the first id works.
  if (auto s = set_quota(fd, highest + 1, 0); !s) return close_on_error(std::move(s).error());
  return std::unique_ptr<ProjectQuota>(new ProjectQuota(fd, highest + 1));
}

ProjectQuota::~ProjectQuota() { ::close(root_fd_); }

sdk::Status ProjectQuota::limit(const std::string& dir, uint64_t bytes) {
  uint32_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
  }
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return sys_error("open " + dir, errno);
  struct fsxattr attr {};
  int rc = ::ioctl(fd, FS_IOC_FSGETXATTR, &attr);
  if (rc == 0) {
    attr.fsx_projid = id;
    attr.fsx_xflags |= FS_XFLAG_PROJINHERIT;
    rc = ::ioctl(fd, FS_IOC_FSSETXATTR, &attr);
  }
  int err = errno;
  ::close(fd);
  if (rc != 0) return sys_error("give " + dir + " project id " + std::to_string(id), err);
  return set_quota(root_fd_, id, bytes);
}

}  // namespace berth::plugins::overlay
