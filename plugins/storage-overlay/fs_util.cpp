#include "fs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "berth/sdk/unique_fd.hpp"

namespace berth::plugins::overlay {
namespace {

using Fd = sdk::UniqueFd;

}  // namespace

sdk::Result<sdk::Usage> disk_usage(const std::string& root) {
  struct stat root_st {};
  if (::lstat(root.c_str(), &root_st) != 0) return sys_error("stat " + root, errno);
  sdk::Usage usage;
  std::set<ino_t> seen;  // one device: the walk never leaves it
  auto count = [&](const struct stat& st) {
    if (!seen.insert(st.st_ino).second) return;
    usage.inodes += 1;
    usage.size += static_cast<int64_t>(st.st_blocks) * 512;
  };
  count(root_st);
  if (!S_ISDIR(root_st.st_mode)) return usage;
  // Iterative, with one open directory per level, so deep trees need no recursion.
  struct Level {
    DIR* dir;
    std::string path;
  };
  std::vector<Level> stack;
  DIR* top = ::opendir(root.c_str());
  if (top == nullptr) return sys_error("open " + root, errno);
  stack.push_back({top, root});
  sdk::Status failure;
  while (!stack.empty() && failure) {
    Level& level = stack.back();
    dirent* e = ::readdir(level.dir);
    if (e == nullptr) {
      ::closedir(level.dir);
      stack.pop_back();
      continue;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(level.dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we walk
      failure = sys_error("stat " + level.path + "/" + std::string(name), errno);
      break;
    }
    if (st.st_dev != root_st.st_dev) continue;  // a mount point: not this snapshot's data
    count(st);
    if (S_ISDIR(st.st_mode)) {
      int fd =
          ::openat(::dirfd(level.dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT) continue;
        failure = sys_error("open " + level.path + "/" + std::string(name), errno);
        break;
      }
      DIR* child = ::fdopendir(fd);
      if (child == nullptr) {
        ::close(fd);
        failure = sys_error("open " + level.path + "/" + std::string(name), errno);
        break;
      }
      std::string child_path = level.path + "/" + std::string(name);
      stack.push_back({child, std::move(child_path)});
    }
  }
  for (auto& level : stack) ::closedir(level.dir);
  if (!failure) return std::move(failure).error();
  return usage;
}

sdk::Result<BackingFs> backing_fs(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return sys_error("statfs " + path, errno);
  auto magic = static_cast<int64_t>(static_cast<uint32_t>(st.f_type));
  static const std::pair<int64_t, const char*> kNames[] = {
      {0xEF53, "extfs"},
      {0x58465342, "xfs"},
      {0x9123683E, "btrfs"},
      {0x01021994, "tmpfs"},
      {kOverlayFsMagic, "overlayfs"},
      {0x2FC12FC1, "zfs"},
      {0xF2F52010, "f2fs"},
      {0x6969, "nfs"},
      {0x61756673, "aufs"},
      {0xF15F, "ecryptfs"},
      {0x73717368, "squashfs"},
      {0x858458F6, "ramfs"},
      {0x52654973, "reiserfs"},
      {0x65735546, "fuse"},
      {0xFF534D42, "cifs"},
      {0x01161970, "gfs2"},
      {0x5346414F, "afs"},
      {0x9FA0, "proc"},
  };
  for (const auto& [m, name] : kNames) {
    if (m == magic) return BackingFs{name, magic};
  }
  std::ostringstream unknown;
  unknown << "unknown (0x" << std::hex << magic << ")";
  return BackingFs{unknown.str(), magic};
}

sdk::Result<bool> supports_d_type(const std::string& dir) {
  std::string probe = dir + "/d_type-probe-XXXXXX";
  if (::mkdtemp(probe.data()) == nullptr) return sys_error("create a probe in " + dir, errno);
  struct Cleanup {
    std::string path;
    ~Cleanup() { (void)remove_tree(path); }
  } cleanup{probe};
  const std::string file = probe + "/file";
  Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return sys_error("create " + file, errno);
  DIR* d = ::opendir(probe.c_str());
  if (d == nullptr) return sys_error("open " + probe, errno);
  bool known = true;
  while (dirent* e = ::readdir(d)) {
    if (std::string_view(e->d_name) == "file") known = e->d_type != DT_UNKNOWN;
  }
  ::closedir(d);
  return known;
}

bool filesystem_listed(std::string_view fs_name) {
  std::ifstream in("/proc/filesystems");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string a, b;
    fields >> a >> b;
    if (a == fs_name || b == fs_name) return true;
  }
  return false;
}

}  // namespace berth::plugins::overlay
