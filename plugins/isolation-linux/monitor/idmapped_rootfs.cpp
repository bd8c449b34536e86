#include "monitor/idmapped_rootfs.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/sys_util.hpp"
#include "monitor/namespaces.hpp"

namespace berth::plugins::isolation {
namespace {

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

// The directory both paths are in (or are): "/a/b/c" and "/a/b/d/e" -> "/a/b".
std::string common_dir(const std::string& a, const std::string& b) {
  size_t n = 0, last_slash = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) {
    if (a[n] == '/') last_slash = n;
    ++n;
  }
  const bool whole_a = n == a.size() && (n == b.size() || b[n] == '/');
  const bool whole_b = n == b.size() && (n == a.size() || a[n] == '/');
  if (whole_a) return a;
  if (whole_b) return b;
  return last_slash == 0 ? "/" : a.substr(0, last_slash);
}

// The directories read through the idmapping: the overlay's lower layers. Its upper and work
// directories stay as they are: overlay works in them with the mounter's credentials (host
// root), which an idmapping to unprivileged ids cannot represent; the container's own writes
// land there with its host ids, as under dockerd's remapping.
sdk::Result<std::vector<std::string>> directories_of(const std::vector<sdk::Mount>& mounts) {
  std::vector<std::string> dirs;
  for (const auto& m : mounts) {
    if (m.type != "overlay") {
      return sdk::make_error(sdk::ErrorCode::kUnsupported,
                             "an idmapped root filesystem must be an overlay (storage driver "
                             "overlay), not " + m.type);
    }
    for (const auto& opt : m.options) {
      if (opt.starts_with("lowerdir=")) {
        if (opt.find('\\') != std::string::npos) {
          return sdk::make_error(sdk::ErrorCode::kUnsupported,
                                 "an idmapped overlay with escaped lowerdir paths");
        }
        for (auto dir : split(std::string_view(opt).substr(9), ':')) {
          dirs.emplace_back(dir);
        }
      }
    }
  }
  for (const auto& d : dirs) {
    if (d.empty() || d.front() != '/') {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "an idmapped root filesystem needs absolute paths, got \"" + d + "\"");
    }
  }
  return dirs;
}

}  // namespace

sdk::Result<UniqueFd> make_mapping_userns(const std::vector<IdMapping>& uids,
                                          const std::vector<IdMapping>& gids) {
  int sync[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) != 0) {
    return sdk::errno_error("socketpair");
  }
  UniqueFd ours(sync[0]), theirs(sync[1]);
  pid_t child = ::fork();
  if (child < 0) return sdk::errno_error("fork");
  if (child == 0) {
    ours.reset();
    char done = 0;
    const char ok = ::unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
    if (::write(theirs.get(), &ok, 1) == 1) (void)!::read(theirs.get(), &done, 1);
    ::_exit(0);
  }
  theirs.reset();
  auto finish = [&] {
    ours.reset();  // EOF: the child exits
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  };
  char step = 0;
  if (::read(ours.get(), &step, 1) != 1 || step != 'u') {
    finish();
    return sdk::make_error(sdk::ErrorCode::kInternal,
                           "create a user namespace for the idmapped root filesystem");
  }
  const std::string proc = "/proc/" + std::to_string(child);
  auto maps = write_existing(proc + "/uid_map", id_map_text(uids));
  if (maps) maps = write_existing(proc + "/gid_map", id_map_text(gids));
  UniqueFd ns(::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  const int open_errno = errno;
  finish();
  if (!maps) return std::move(maps).error().wrap("idmapped root filesystem");
  if (!ns) return sdk::errno_error("open the idmapping user namespace", open_errno);
  return ns;
}

sdk::Result<std::vector<sdk::Mount>> idmap_rootfs_mounts(const std::vector<sdk::Mount>& mounts,
                                                        int userns_fd, const std::string& staging,
                                                        uid_t root_uid, gid_t root_gid) {
  // The upper directory is the container's "/": its remapped root owns it.
  for (const auto& m : mounts) {
    if (m.type != "overlay") continue;
    for (const auto& opt : m.options) {
      if (!opt.starts_with("upperdir=")) continue;
      const std::string upper = opt.substr(9);
      struct stat st {};
      if (::lstat(upper.c_str(), &st) != 0) return sdk::errno_error("stat " + upper);
      if ((st.st_uid != root_uid || st.st_gid != root_gid) &&
          ::lchown(upper.c_str(), root_uid, root_gid) != 0) {
        return sdk::errno_error("chown " + upper);
      }
    }
  }
  auto dirs = directories_of(mounts);
  if (!dirs) return std::move(dirs).error();
  if (dirs->empty()) return mounts;
  std::string base = dirs->front();
  for (const auto& d : *dirs) base = common_dir(base, d);

  // One idmapped clone of the directory holding every layer: one mount, not one per layer.
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, base.c_str(),
                                           OPEN_TREE_CLONE | O_CLOEXEC)));
  if (!tree) return sdk::errno_error("clone " + base);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
    return sdk::errno_error("idmap " + base + " (idmapped mounts need Linux >= 5.19 and a "
                            "filesystem that supports them)");
  }
  if (::syscall(SYS_move_mount, tree.get(), "", AT_FDCWD, staging.c_str(),
                MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return sdk::errno_error("attach the idmapped " + base + " at " + staging);
  }

  auto remapped = [&](const std::string& path) {
    return staging + (base == "/" ? path : path.substr(base.size()));
  };
  std::vector<sdk::Mount> out = mounts;
  for (auto& m : out) {
    for (auto& opt : m.options) {
      if (opt.starts_with("lowerdir=")) {
        std::string value;
        for (auto dir : split(std::string_view(opt).substr(9), ':')) {
          value += (value.empty() ? "" : ":") + remapped(std::string(dir));
        }
        opt = "lowerdir=" + value;
      }
    }
  }
  return out;
}

}  // namespace berth::plugins::isolation
