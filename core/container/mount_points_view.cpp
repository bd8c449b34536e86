#include "core/container/mount_points_view.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "core/container/container.hpp"
#include "core/layer/safe_path.hpp"

namespace berth::core::container {

namespace {

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// The destination inside the root as an O_PATH fd, created (directories along the way, and a
// file at the end when the source is a file) where missing.
Result<UniqueFd> open_destination(int root_fd, const layer::PathParts& parts, bool want_dir,
                                  const std::string& shown) {
  for (size_t i = 0; i < parts.size(); ++i) {
    UniqueFd parent(layer::open_dir_fd(root_fd, parts, i, kInRoot));
    if (!parent) return layer::path_error("mount point", shown, errno);
    bool last = i + 1 == parts.size();
    if (last && !want_dir) {
      int fd = layer::openat2_fd(parent.get(), parts[i], O_CREAT | O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
      if (fd < 0 && errno != EISDIR && errno != ELOOP) return layer::path_error("mount point", shown, errno);
      if (fd >= 0) ::close(fd);
    } else if (::mkdirat(parent.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
      return layer::path_error("mount point", shown, errno);
    }
  }
  int flags = O_PATH | O_CLOEXEC | (want_dir ? O_DIRECTORY : 0);
  UniqueFd fd(layer::openat2_fd(root_fd, layer::join_path(parts), static_cast<uint64_t>(flags), kInRoot));
  if (!fd) return layer::path_error("mount point", shown, errno);
  return fd;
}

}  // namespace

Status mount_points_into(const std::string& rootfs, const std::vector<MountPoint>& mounts) {
  std::vector<const MountPoint*> order;
  for (const auto& m : mounts) {
    if ((m.type == "volume" || m.type == "bind") && !m.source.empty()) order.push_back(&m);
  }
  // Parents first: /data before /data/cache.
  std::stable_sort(order.begin(), order.end(), [](const MountPoint* a, const MountPoint* b) {
    return a->destination.size() < b->destination.size();
  });
  auto root = layer::open_root(rootfs);
  if (!root) return root.error();
  for (const MountPoint* m : order) {
    auto parts = layer::clean_path(m->destination);
    if (!parts) return std::move(parts).error().wrap("mount point " + m->destination);
    struct stat st {};
    if (::stat(m->source.c_str(), &st) != 0) {
      return errno_error("mount " + m->destination + ": source " + m->source);
    }
    auto dest = open_destination(root->get(), *parts, S_ISDIR(st.st_mode), m->destination);
    if (!dest) return dest.error();
    // The O_PATH fd's /proc link is the resolved place: mount(2) follows it there.
    std::string target = "/proc/self/fd/" + std::to_string(dest->get());
    if (::mount(m->source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return errno_error("mount " + m->source + " at " + m->destination);
    }
    if (!m->rw) {
      // Remount through the new mount (the fd still names the covered directory).
      UniqueFd mounted(layer::openat2_fd(root->get(), layer::join_path(*parts), O_PATH | O_CLOEXEC, kInRoot));
      if (!mounted) return layer::path_error("mount point", m->destination, errno);
      std::string over = "/proc/self/fd/" + std::to_string(mounted.get());
      if (::mount(nullptr, over.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
        return errno_error("make " + m->destination + " read-only");
      }
    }
  }
  return {};
}

}  // namespace berth::core::container
