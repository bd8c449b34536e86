#include "tests/support/btrfs_loop.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "berth/sdk/unique_fd.hpp"
#include "tests/support/berthd_process.hpp"

namespace berth::testing {
namespace {

using Fd = sdk::UniqueFd;

Error unsupported(std::string message) {
  return make_error(ErrorCode::kUnsupported, std::move(message));
}

std::string find_tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Mount points at or below `path`, deepest first (a stacked mount appears once per mount).
std::vector<std::string> mounts_at_or_below(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    mount_point = unescape(mount_point);
    if (mount_point == path || mount_point.rfind(path + "/", 0) == 0) out.push_back(mount_point);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

// Unmounts `target`, retrying while it is busy (a process that just exited may still hold it),
// then detaching it lazily so the directory is free either way.
Status unmount_one(const std::string& target) {
  for (int i = 0; i < 40; ++i) {
    if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return {};
    if (errno == EINVAL || errno == ENOENT) return {};  // not (or no longer) mounted
    if (errno != EBUSY) return errno_error("unmount " + target);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL) {
    return errno_error("detach " + target);
  }
  return make_error(ErrorCode::kFailedPrecondition,
                    "unmount " + target + ": still busy after 2 s, detached lazily");
}

// Whether loop device `device` is still backed by the file (dev, ino).
bool loop_backed_by(const std::string& device, uint64_t dev, uint64_t ino) {
  Fd fd(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  loop_info64 info{};
  if (::ioctl(fd.get(), LOOP_GET_STATUS64, &info) != 0) return false;  // ENXIO: detached
  return info.lo_device == dev && info.lo_inode == ino;
}

}  // namespace

Result<std::unique_ptr<BtrfsLoop>> BtrfsLoop::create(const BtrfsLoopOptions& options) {
  const std::string& fstype = options.filesystem;
  if (fstype != "btrfs" && fstype != "ext4" && fstype != "xfs") {
    return make_error(ErrorCode::kInvalidArgument, "BtrfsLoop: unknown filesystem " + fstype);
  }
  if (::geteuid() != 0) {
    return unsupported("a " + fstype + " loop device needs root (losetup, mkfs, mount)");
  }
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
    return unsupported(
        "no loop devices here (/dev/loop-control: " + std::string(std::strerror(errno)) + ")");
  }
  const std::string mkfs = find_tool("mkfs." + fstype);
  if (mkfs.empty()) {
    const char* package = fstype == "btrfs" ? "btrfs-progs" : fstype == "xfs" ? "xfsprogs" : "e2fsprogs";
    return unsupported("mkfs." + fstype + " not found (apt-get install " + package + ")");
  }

  std::unique_ptr<BtrfsLoop> loop(new BtrfsLoop());
  std::string parent = options.parent;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  std::string templ = parent + "/berth-" + fstype + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return errno_error("create a directory in " + parent);
  ::chmod(templ.c_str(), 0755);
  loop->dir_ = templ;
  loop->image_ = templ + "/disk.img";
  loop->mount_point_ = templ + "/mnt";
  // From here on, a failure returns through the destructor, which undoes what was done.
  if (::mkdir(loop->mount_point_.c_str(), 0755) != 0) {
    return errno_error("create " + loop->mount_point_);
  }
  Fd image(::open(loop->image_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (image.get() < 0) return errno_error("create " + loop->image_);
  if (::ftruncate(image.get(), static_cast<off_t>(options.size_mib) << 20) != 0) {
    return errno_error("size " + loop->image_);
  }
  struct stat st {};
  if (::fstat(image.get(), &st) != 0) return errno_error("stat " + loop->image_);
  loop->image_dev_ = st.st_dev;
  loop->image_ino_ = st.st_ino;

  std::vector<std::string> mkfs_argv = {mkfs, "-q"};
  mkfs_argv.push_back(fstype == "ext4" ? "-F" : "-f");
  mkfs_argv.push_back(loop->image_);
  auto made = run_command(mkfs_argv);
  if (made.exit_code != 0) {
    return make_error(ErrorCode::kInternal, mkfs + " " + loop->image_ + " failed (" +
                                                std::to_string(made.exit_code) + "): " + made.err);
  }

  // A free loop device: another process may take the one we were offered before we configure
  // it (EBUSY), so ask again.
  Fd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (control.get() < 0) return errno_error("open /dev/loop-control");
  Fd dev;
  for (int attempt = 0;; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return errno_error("find a free loop device");
    std::string device = "/dev/loop" + std::to_string(n);
    dev.reset(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (dev.get() < 0) return errno_error("open " + device);
    loop_config config{};
    config.fd = static_cast<uint32_t>(image.get());
    // Detached by the kernel as soon as nothing uses it (after the unmount), even if this
    // process is killed before it gets to tear down.
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), loop->image_.c_str(),
                 LO_NAME_SIZE - 1);
    if (::ioctl(dev.get(), LOOP_CONFIGURE, &config) == 0) {
      loop->device_ = device;
      loop->attached_ = true;
      break;
    }
    if (errno != EBUSY || attempt >= 20)
      return errno_error("attach " + loop->image_ + " to " + device);
  }

  // xfs quotas are a mount option (project quotas enforced); btrfs's are switched on below.
  const char* data = fstype == "xfs" && options.quotas ? "prjquota" : nullptr;
  if (::mount(loop->device_.c_str(), loop->mount_point_.c_str(), fstype.c_str(), 0, data) != 0) {
    int err = errno;
    if (err == ENODEV) return unsupported("the kernel has no " + fstype + " filesystem");
    // A kernel built without CONFIG_XFS_QUOTA refuses the option (and says so in dmesg only).
    if (err == EINVAL && data != nullptr &&
        ::mount(loop->device_.c_str(), loop->mount_point_.c_str(), fstype.c_str(), 0, nullptr) == 0) {
      loop->mounted_ = true;
      return unsupported("this kernel's xfs has no quota support (CONFIG_XFS_QUOTA); Debian's "
                         "kernels have it");
    }
    return errno_error("mount " + loop->device_ + " on " + loop->mount_point_, err);
  }
  loop->mounted_ = true;
  // The mount holds the device now; our descriptors can go (autoclear then applies on unmount).
  dev.reset();
  image.reset();
  ::chmod(loop->mount_point_.c_str(), 0755);

  if (options.quotas && fstype != "xfs") {
    if (fstype != "btrfs") {
      return make_error(ErrorCode::kInvalidArgument, "quotas are a btrfs option");
    }
    Fd mnt(::open(loop->mount_point_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (mnt.get() < 0) return errno_error("open " + loop->mount_point_);
    btrfs_ioctl_quota_ctl_args quota{};
    quota.cmd = BTRFS_QUOTA_CTL_ENABLE;
    if (::ioctl(mnt.get(), BTRFS_IOC_QUOTA_CTL, &quota) != 0) {
      return errno_error("enable quotas on " + loop->mount_point_);
    }
    if (::ioctl(mnt.get(), BTRFS_IOC_QUOTA_RESCAN_WAIT) != 0 && errno != ENOTCONN) {
      return errno_error("wait for the quota rescan of " + loop->mount_point_);
    }
  }
  return loop;
}

BtrfsLoop::~BtrfsLoop() { (void)teardown(); }

std::string BtrfsLoop::path(std::string_view rel) const {
  return mount_point_ + "/" + std::string(rel);
}

Status BtrfsLoop::teardown() {
  Status first;
  auto note = [&first](Status s) {
    if (!s && first) first = std::move(s);
  };
  if (mounted_ || !mount_point_.empty()) {
    // Whatever a test mounted inside goes first, deepest first, then the filesystem itself.
    for (int round = 0; round < 3; ++round) {
      auto mounts = mounts_at_or_below(mount_point_);
      if (mounts.empty()) break;
      for (const auto& m : mounts) note(unmount_one(m));
    }
    mounted_ = false;
  }
  if (attached_) {
    // Autoclear detaches the device once the filesystem is gone; wait for it (a lazy unmount
    // finishes when the last user lets go), then detach it ourselves if it is still ours.
    bool ours = true;
    for (int i = 0; i < 100 && (ours = loop_backed_by(device_, image_dev_, image_ino_)); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (ours) {
      Fd fd(::open(device_.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() >= 0 && ::ioctl(fd.get(), LOOP_CLR_FD) != 0 && errno != ENXIO) {
        note(errno_error("detach " + device_));
      } else if (loop_backed_by(device_, image_dev_, image_ino_)) {
        note(make_error(ErrorCode::kFailedPrecondition,
                        device_ + " is still busy; the kernel detaches it when released"));
      }
    }
    attached_ = false;
  }
  if (!image_.empty()) {
    if (::unlink(image_.c_str()) != 0 && errno != ENOENT) note(errno_error("remove " + image_));
    image_.clear();
  }
  if (!mount_point_.empty()) {
    if (::rmdir(mount_point_.c_str()) != 0 && errno != ENOENT) {
      note(errno_error("remove " + mount_point_));
    }
    mount_point_.clear();
  }
  if (!dir_.empty()) {
    if (::rmdir(dir_.c_str()) != 0 && errno != ENOENT) note(errno_error("remove " + dir_));
    dir_.clear();
  }
  return first;
}

}  // namespace berth::testing
