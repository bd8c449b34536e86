#include "monitor/linux_mounts.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "berth/sdk/mount.hpp"
#include "berth/sdk/fs.hpp"
#include "berth/sdk/mount_options.hpp"
#include "common/sys_util.hpp"
#include "monitor/idmapped_rootfs.hpp"

namespace berth::plugins::isolation {
namespace {

int sys_openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  struct open_how how {};
  how.flags = flags;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

int sys_mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t set, uint64_t clr) {
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr));
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

// A detached copy of the mount tree at `path` (one mount, or all of them below with
// `recursive`): it belongs to no namespace until move_mount attaches it, so it can be made here
// and attached from inside a user namespace that could not reach `path` itself.
int sys_open_tree(const char* path, bool recursive) {
  return static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, path,
                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0)));
}

// Attaches the detached tree `tree` on `target` (an O_PATH fd), or on the current directory.
int sys_move_mount(int tree, int target) {
  return static_cast<int>(
      ::syscall(SYS_move_mount, tree, "", target < 0 ? AT_FDCWD : target, target < 0 ? "." : "",
                MOVE_MOUNT_F_EMPTY_PATH | (target < 0 ? 0 : MOVE_MOUNT_T_EMPTY_PATH)));
}

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// Mount flags from OCI/fstab options; what is not a flag is filesystem data.
struct ParsedOptions {
  unsigned long flags = 0;
  unsigned long propagation = 0;
  bool recursive_bind = false;
  bool bind = false;
  std::string data;
};

// The SDK's one option table; bind/rbind are taken out of the flags because a bind here is an
// open_tree + move_mount, never a mount(2) with MS_BIND.
ParsedOptions parse_options(const std::vector<std::string>& options) {
  const sdk::MountOptions parsed = sdk::parse_mount_options(options);
  ParsedOptions out;
  out.bind = parsed.bind();
  out.recursive_bind = parsed.recursive_bind();
  out.flags = parsed.flags & ~static_cast<unsigned long>(MS_BIND | MS_REC);
  out.propagation = parsed.propagation;
  out.data = parsed.data_string();
  return out;
}

uint64_t mount_attrs(unsigned long flags) {
  uint64_t attrs = 0;
  if ((flags & MS_RDONLY) != 0) attrs |= MOUNT_ATTR_RDONLY;
  if ((flags & MS_NOSUID) != 0) attrs |= MOUNT_ATTR_NOSUID;
  if ((flags & MS_NODEV) != 0) attrs |= MOUNT_ATTR_NODEV;
  if ((flags & MS_NOEXEC) != 0) attrs |= MOUNT_ATTR_NOEXEC;
  if ((flags & MS_NODIRATIME) != 0) attrs |= MOUNT_ATTR_NODIRATIME;
  return attrs;
}

sdk::Status mount_error(const std::string& type, const std::string& dest, int err) {
  return sdk::errno_error("mount " + type + " on " + dest, err);
}

// Sets per-mount attributes on the mount now at `dest` (re-opened: the fd used to mount on still
// points at the covered directory).
sdk::Status set_attrs(int root_fd, const std::string& dest, uint64_t attrs, bool recursive) {
  if (attrs == 0) return {};
  auto fd = open_in_root(root_fd, dest, false, false);
  if (!fd) return std::move(fd).error();
  if (sys_mount_setattr(fd->get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), attrs, 0) !=
      0) {
    return sdk::errno_error("set mount flags on " + dest);
  }
  return {};
}

sdk::Status set_propagation(int root_fd, const std::string& dest, unsigned long propagation) {
  if (propagation == 0) return {};
  auto fd = open_in_root(root_fd, dest, false, false);
  if (!fd) return std::move(fd).error();
  if (::mount(nullptr, fd_path(fd->get()).c_str(), nullptr, propagation, nullptr) != 0) {
    return sdk::errno_error("set propagation of " + dest);
  }
  return {};
}

// `tree` is a detached copy of the source made while still privileged on the host (see
// prepare_rootfs): a process in a user namespace may not be able to reach the host path.
sdk::Status mount_bind(int root_fd, const OciMount& m, int tree) {
  struct stat st {};
  if (::fstat(tree, &st) != 0) return sdk::errno_error("bind " + m.source);
  const bool dir = S_ISDIR(st.st_mode);
  auto dest = open_in_root(root_fd, m.destination, true, dir);
  if (!dest) return std::move(dest).error().wrap("bind " + m.source + " on " + m.destination);
  ParsedOptions opts = parse_options(m.options);
  // A bind takes no flags but MS_REC: read-only and friends are per-mount attributes, set on the
  // copy before it is attached, recursively for rbind like runc's "rro".
  if (uint64_t attrs = mount_attrs(opts.flags); attrs != 0) {
    if (sys_mount_setattr(tree, "", AT_EMPTY_PATH | (opts.recursive_bind ? AT_RECURSIVE : 0), attrs,
                          0) != 0) {
      return sdk::errno_error("set mount flags of " + m.source);
    }
  }
  if (sys_move_mount(tree, dest->get()) != 0) {
    return mount_error("bind " + m.source, m.destination, errno);
  }
  BERTH_TRY_STATUS(set_propagation(root_fd, m.destination, opts.propagation));
  return {};
}

// v1: a tmpfs with one read-only bind per hierarchy, each showing only the container's own
// directory; v2: the cgroup2 filesystem seen through the container's cgroup namespace (or, with
// no cgroup namespace, a bind of its directory).
sdk::Status mount_cgroup(int root_fd, const OciMount& m, const CreateConfig& config) {
  ParsedOptions opts = parse_options(m.options);
  auto dest = open_in_root(root_fd, m.destination, true, true);
  if (!dest) return std::move(dest).error().wrap("mount cgroup on " + m.destination);
  const uint64_t attrs = mount_attrs(opts.flags | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (config.cgroup.version == 2) {
    if (config.spec.find_namespace("cgroup") != nullptr) {
      if (::mount("cgroup2", fd_path(dest->get()).c_str(), "cgroup2",
                  opts.flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        return mount_error("cgroup2", m.destination, errno);
      }
      return {};
    }
    if (::mount(config.cgroup.v2_dir.c_str(), fd_path(dest->get()).c_str(), nullptr, MS_BIND,
                nullptr) != 0) {
      return mount_error("bind " + config.cgroup.v2_dir, m.destination, errno);
    }
    return set_attrs(root_fd, m.destination, attrs, false);
  }
  if (::mount("tmpfs", fd_path(dest->get()).c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=755") != 0) {
    return mount_error("tmpfs", m.destination, errno);
  }
  // The tmpfs is ours and fresh: its directories are made and opened without resolving
  // anything the image controls.
  auto base = open_in_root(root_fd, m.destination, false, true);
  if (!base) return std::move(base).error().wrap("mount cgroup");
  // A read-only cgroup mount (the usual case) gets its flags in one recursive call at the end;
  // otherwise each hierarchy is made read-only on its own and the tmpfs stays as asked.
  const bool all_readonly = (attrs & MOUNT_ATTR_RDONLY) != 0;
  for (const auto& [name, host_dir] : config.cgroup.v1_dirs) {
    const std::string sub = m.destination + "/" + name;
    if (::mkdirat(base->get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      return sdk::errno_error("mkdir " + sub);
    }
    UniqueFd target(::openat(base->get(), name.c_str(),
                             O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!target) return sdk::errno_error("open " + sub);
    if (::mount(host_dir.c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND | MS_REC,
                nullptr) != 0) {
      return mount_error("bind " + host_dir, sub, errno);
    }
    if (!all_readonly) BERTH_TRY_STATUS(set_attrs(root_fd, sub, attrs | MOUNT_ATTR_RDONLY, true));
    // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.
    if (name.find(',') != std::string::npos) {
      for (auto part : split(name, ',')) {
        ::symlinkat(name.c_str(), base->get(), std::string(part).c_str());
      }
    }
  }
  return set_attrs(root_fd, m.destination, attrs, all_readonly);
}

sdk::Status mount_filesystem(int root_fd, const OciMount& m) {
  ParsedOptions opts = parse_options(m.options);
  auto dest = open_in_root(root_fd, m.destination, true, true);
  if (!dest) return std::move(dest).error().wrap("mount " + m.type + " on " + m.destination);
  const std::string source = m.source.empty() ? m.type : m.source;
  if (::mount(source.c_str(), fd_path(dest->get()).c_str(), m.type.c_str(), opts.flags,
              opts.data.empty() ? nullptr : opts.data.c_str()) != 0) {
    return mount_error(m.type, m.destination, errno);
  }
  return set_propagation(root_fd, m.destination, opts.propagation);
}

struct DefaultDevice {
  const char* path;
  unsigned major;
  unsigned minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

sdk::Status create_device(int root_fd, const OciDevice& dev) {
  const size_t slash = dev.path.rfind('/');
  const std::string dir = dev.path.substr(0, slash);
  const std::string name = dev.path.substr(slash + 1);
  auto parent = open_in_root(root_fd, dir, true, true);
  if (!parent) return std::move(parent).error().wrap("create device " + dev.path);
  mode_t type = dev.type == 'b' ? S_IFBLK : dev.type == 'p' ? S_IFIFO : S_IFCHR;
  mode_t perm = dev.file_mode ? (*dev.file_mode & 07777) : 0666;
  dev_t number = makedev(static_cast<unsigned>(dev.major), static_cast<unsigned>(dev.minor));
  if (::mknodat(parent->get(), name.c_str(), type | perm, number) != 0) {
    if (errno == EEXIST) return {};  // the image or a mount already provides it (runc: keep it)
    if (errno != EPERM) return sdk::errno_error("mknod " + dev.path);
    // No CAP_MKNOD here (a user namespace): bind the host's node instead, as runc does.
    UniqueFd file(::openat(parent->get(), name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    if (!file) return sdk::errno_error("create " + dev.path);
    auto target = open_in_root(root_fd, dev.path, false, false);
    if (!target) return std::move(target).error();
    if (::mount(dev.path.c_str(), fd_path(target->get()).c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return sdk::errno_error("bind " + dev.path);
    }
    return {};
  }
  if (dev.uid || dev.gid) {
    if (::fchownat(parent->get(), name.c_str(), dev.uid.value_or(0), dev.gid.value_or(0),
                   AT_SYMLINK_NOFOLLOW) != 0) {
      return sdk::errno_error("chown " + dev.path);
    }
  }
  return {};
}

sdk::Status setup_dev(int root_fd, const CreateConfig& config) {
  ::umask(0);
  for (const auto& d : kDefaultDevices) {
    bool overridden = false;
    for (const auto& given : config.spec.devices) overridden = overridden || given.path == d.path;
    if (overridden) continue;
    OciDevice dev;
    dev.path = d.path;
    dev.type = 'c';
    dev.major = d.major;
    dev.minor = d.minor;
    dev.file_mode = 0666;
    BERTH_TRY_STATUS(create_device(root_fd, dev));
  }
  for (const auto& dev : config.spec.devices) BERTH_TRY_STATUS(create_device(root_fd, dev));
  ::umask(022);

  auto dev_dir = open_in_root(root_fd, "/dev", true, true);
  if (!dev_dir) return std::move(dev_dir).error();
  struct Link {
    const char* target;
    const char* name;
  };
  static constexpr Link kLinks[] = {{"/proc/self/fd", "fd"},
                                    {"/proc/self/fd/0", "stdin"},
                                    {"/proc/self/fd/1", "stdout"},
                                    {"/proc/self/fd/2", "stderr"}};
  for (const auto& link : kLinks) {
    if (::symlinkat(link.target, dev_dir->get(), link.name) != 0 && errno != EEXIST) {
      return sdk::errno_error(std::string("symlink /dev/") + link.name);
    }
  }
  if (path_exists("/proc/kcore")) ::symlinkat("/proc/kcore", dev_dir->get(), "core");
  // /dev/ptmx must be the container's own devpts instance, never a host node.
  struct stat st {};
  bool have_pts = ::fstatat(dev_dir->get(), "pts/ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (have_pts) {
    ::unlinkat(dev_dir->get(), "ptmx", 0);
    if (::symlinkat("pts/ptmx", dev_dir->get(), "ptmx") != 0) {
      return sdk::errno_error("symlink /dev/ptmx");
    }
  }
  if (::mkdirat(dev_dir->get(), "shm", 01777) != 0 && errno != EEXIST) {
    return sdk::errno_error("mkdir /dev/shm");
  }
  return {};
}

sdk::Status bind_init(int root_fd, int init) {
  auto dest = open_in_root(root_fd, "/dev/init", true, false);
  if (!dest) return std::move(dest).error().wrap("bind init");
  if (sys_mount_setattr(init, "", AT_EMPTY_PATH,
                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) != 0) {
    return sdk::errno_error("set mount flags of berth-init");
  }
  if (sys_move_mount(init, dest->get()) != 0) {
    return mount_error("bind berth-init", "/dev/init", errno);
  }
  return {};
}

// runc's pivot_root(".", "."): the old root ends up stacked on the new one and is detached, with
// no directory left in the rootfs for it.
sdk::Status pivot_into(int root_fd, const std::string& rootfs) {
  UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root) return sdk::errno_error("open /");
  if (::fchdir(root_fd) != 0) return sdk::errno_error("chdir " + rootfs);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return sdk::errno_error("pivot_root " + rootfs);
  if (::fchdir(old_root.get()) != 0) return sdk::errno_error("chdir old root");
  // Slave first so the unmount below can never propagate anywhere else.
  if (::mount("", ".", "", MS_SLAVE | MS_REC, nullptr) != 0) {
    return sdk::errno_error("make old root rslave");
  }
  if (::umount2(".", MNT_DETACH) != 0) return sdk::errno_error("detach old root");
  if (::chdir("/") != 0) return sdk::errno_error("chdir /");
  return {};
}

}  // namespace

namespace {

// mkdir -p of `rel` inside the root, every component resolved inside it again. A component that
// exists but does not resolve is a symlink to something missing: what it points at is created,
// inside the root too (runc's MkdirAllInRoot), so a link to a host path never reaches the host.
sdk::Status mkdir_in_root(int root_fd, const std::string& rel, int depth) {
  if (depth > 40) return sdk::errno_error("mkdir /" + rel, ELOOP);
  std::string prefix;
  for (auto part : split(rel, '/')) {
    if (part == ".") continue;
    const std::string parent = prefix.empty() ? "." : prefix;
    const std::string name(part);
    prefix = prefix.empty() ? name : prefix + "/" + name;
    int probe = sys_openat2(root_fd, prefix.c_str(), O_PATH | O_CLOEXEC, kInRoot);
    if (probe >= 0) {
      ::close(probe);
      continue;
    }
    if (errno != ENOENT) return sdk::errno_error("open /" + prefix);
    UniqueFd parent_fd(
        sys_openat2(root_fd, parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
    if (!parent_fd) return sdk::errno_error("open /" + parent);
    if (::mkdirat(parent_fd.get(), name.c_str(), 0755) == 0) continue;
    if (errno != EEXIST) return sdk::errno_error("mkdir /" + prefix);
    auto target = sdk::fs::read_link_at(parent_fd.get(), name);
    if (!target || target->empty()) return sdk::errno_error("open /" + prefix);
    const std::string& link = *target;
    const std::string resolved = link.front() == '/' || parent == "." ? link : parent + "/" + link;
    BERTH_TRY_STATUS(mkdir_in_root(root_fd, resolved, depth + 1));
  }
  return {};
}

}  // namespace

sdk::Result<UniqueFd> open_in_root(int root_fd, const std::string& path, bool create,
                                   bool directory) {
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  int fd = sys_openat2(root_fd, rel.c_str(), O_PATH | O_CLOEXEC, kInRoot);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT || !create) return sdk::errno_error("open " + path);
  const size_t slash = rel.rfind('/');
  if (directory) {
    BERTH_TRY_STATUS(mkdir_in_root(root_fd, rel, 0));
  } else {
    // The parent as a directory, then an empty file to mount over.
    const std::string parent = slash == std::string::npos ? "." : rel.substr(0, slash);
    const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (parent != ".") BERTH_TRY_STATUS(mkdir_in_root(root_fd, parent, 0));
    UniqueFd parent_fd(
        sys_openat2(root_fd, parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
    if (!parent_fd) return sdk::errno_error("open /" + parent);
    UniqueFd file(::openat(parent_fd.get(), name.c_str(),
                           O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file && errno != EEXIST) return sdk::errno_error("create " + path);
  }
  fd = sys_openat2(root_fd, rel.c_str(), O_PATH | O_CLOEXEC, kInRoot);
  if (fd < 0) return sdk::errno_error("open " + path);
  return UniqueFd(fd);
}

namespace {

// The host id the container's id 0 maps to (0 when unmapped).
uint32_t host_id_of_root(const std::vector<IdMapping>& mappings) {
  for (const auto& m : mappings) {
    if (m.container_id == 0 && m.size > 0) return m.host_id;
  }
  return 0;
}

}  // namespace

sdk::Result<PreparedRoot> prepare_rootfs(const CreateConfig& config, bool detach,
                                         int idmap_userns) {
  const std::string& prop = config.spec.rootfs_propagation;
  // Nothing mounted from here on may reach the host: slave (or private when asked) recursively.
  unsigned long root_flags = MS_REC | MS_SLAVE;
  if (prop == "private" || prop == "rprivate") root_flags = MS_REC | MS_PRIVATE;
  if (::mount(nullptr, "/", nullptr, root_flags, nullptr) != 0) {
    return sdk::errno_error("set root propagation");
  }
  PreparedRoot prepared;
  std::string& rootfs = prepared.path;
  if (!config.rootfs.empty()) {
    std::vector<sdk::Mount> mounts = config.rootfs;
    if (idmap_userns >= 0) {
      // In this namespace only: a tmpfs over the bundle holds the rootfs mount point and the
      // idmapped mount the layers are reached through.
      if (::mount("tmpfs", config.bundle.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") !=
          0) {
        return sdk::errno_error("mount a tmpfs on " + config.bundle);
      }
      const std::string staging = config.bundle + "/layers";
      if (::mkdir(staging.c_str(), 0700) != 0) return sdk::errno_error("mkdir " + staging);
      auto idmapped = idmap_rootfs_mounts(mounts, idmap_userns, staging,
                                          host_id_of_root(config.spec.uid_mappings),
                                          host_id_of_root(config.spec.gid_mappings));
      if (!idmapped) return std::move(idmapped).error().wrap("mount rootfs");
      mounts = std::move(*idmapped);
    }
    rootfs = config.bundle + "/rootfs";
    if (::mkdir(rootfs.c_str(), 0755) != 0 && errno != EEXIST) {
      return sdk::errno_error("mkdir " + rootfs);
    }
    if (auto s = sdk::mount_all(mounts, rootfs); !s) {
      return std::move(s).error().wrap("mount rootfs");
    }
  } else {
    rootfs = config.spec.root_path;
    if (rootfs.empty() || rootfs.front() != '/') rootfs = config.bundle + "/" + rootfs;
    // pivot_root needs a mount point.
    if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return sdk::errno_error("bind rootfs " + rootfs);
    }
  }
  // The rootfs mount itself must not be shared for pivot_root, whatever the storage gave us.
  if (::mount(nullptr, rootfs.c_str(), nullptr, MS_REC | MS_SLAVE, nullptr) != 0 &&
      ::mount(nullptr, rootfs.c_str(), nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return sdk::errno_error("set rootfs propagation");
  }
  prepared.root.reset(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!prepared.root) return sdk::errno_error("open " + rootfs);
  if (detach) {
    // Mounts copied into a user namespace's mount namespace are locked and pivot_root refuses a
    // locked new root: the rootfs goes in as a fresh detached copy instead.
    prepared.tree.reset(sys_open_tree(rootfs.c_str(), true));
    if (!prepared.tree) return sdk::errno_error("clone rootfs mount " + rootfs);
  }
  prepared.bind_sources.resize(config.spec.mounts.size());
  for (size_t i = 0; i < config.spec.mounts.size(); ++i) {
    const auto& m = config.spec.mounts[i];
    if (m.type != "bind") continue;
    prepared.bind_sources[i].reset(
        sys_open_tree(m.source.c_str(), parse_options(m.options).recursive_bind));
    if (!prepared.bind_sources[i]) return sdk::errno_error("bind " + m.source);
  }
  if (!config.init_path.empty()) {
    prepared.init.reset(sys_open_tree(config.init_path.c_str(), false));
    if (!prepared.init) return sdk::errno_error("bind " + config.init_path);
  }
  return prepared;
}

sdk::Status finish_rootfs(const CreateConfig& config, PreparedRoot& prepared) {
  if (prepared.tree) {
    // Our current directory is the rootfs's place in this namespace (see PreparedRoot::tree).
    if (sys_move_mount(prepared.tree.get(), -1) != 0) return sdk::errno_error("attach rootfs");
    prepared.root = std::move(prepared.tree);
  }
  const int root_fd = prepared.root.get();
  bool have_devpts = false;
  for (size_t i = 0; i < config.spec.mounts.size(); ++i) {
    const auto& m = config.spec.mounts[i];
    sdk::Status s;
    if (m.type == "bind") {
      s = mount_bind(root_fd, m, prepared.bind_sources[i].get());
    } else if (m.type == "cgroup" || m.type == "cgroup2") {
      s = mount_cgroup(root_fd, m, config);
    } else {
      s = mount_filesystem(root_fd, m);
      if (m.type == "devpts") have_devpts = true;
    }
    if (!s) return s;
  }
  prepared.bind_sources.clear();
  if (config.terminal && !have_devpts) {
    // A terminal needs the container's own devpts instance even when the spec forgot it.
    OciMount pts{"/dev/pts",
                 "devpts",
                 "devpts",
                 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}};
    BERTH_TRY_STATUS(mount_filesystem(root_fd, pts));
  }
  BERTH_TRY_STATUS(setup_dev(root_fd, config));
  if (prepared.init) BERTH_TRY_STATUS(bind_init(root_fd, prepared.init.get()));
  BERTH_TRY_STATUS(pivot_into(root_fd, prepared.path));
  prepared.root.reset();
  prepared.init.reset();
  return {};
}

sdk::Status apply_readonly_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return sdk::errno_error("readonly path " + p);
    }
    if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return sdk::errno_error("bind readonly path " + p);
    }
    if (sys_mount_setattr(
            AT_FDCWD, p.c_str(), AT_RECURSIVE,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0) != 0) {
      return sdk::errno_error("make " + p + " read-only");
    }
  }
  return {};
}

sdk::Status apply_masked_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return sdk::errno_error("masked path " + p);
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, nullptr) != 0) {
        return sdk::errno_error("mask " + p);
      }
    } else if (::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return sdk::errno_error("mask " + p);
    }
  }
  return {};
}

sdk::Status make_root_readonly() {
  if (sys_mount_setattr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY, 0) != 0) {
    return sdk::errno_error("remount / read-only");
  }
  return {};
}

sdk::Status finish_root_propagation(const std::string& propagation) {
  unsigned long flags = 0;
  if (propagation == "shared") flags = MS_SHARED;
  if (propagation == "rshared") flags = MS_SHARED | MS_REC;
  if (propagation == "unbindable") flags = MS_UNBINDABLE;
  if (propagation == "runbindable") flags = MS_UNBINDABLE | MS_REC;
  if (flags == 0) return {};
  if (::mount(nullptr, "/", nullptr, flags, nullptr) != 0) {
    return sdk::errno_error("set root propagation " + propagation);
  }
  return {};
}

}  // namespace berth::plugins::isolation
