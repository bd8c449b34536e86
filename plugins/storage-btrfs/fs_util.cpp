#include "fs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

namespace berth::plugins::btrfs {
namespace {

// Names for the magics statfs reports, for when mountinfo cannot tell (Docker's names aside, the
// kernel's: this text goes into a message that tells the user what their data-root is on).
std::string name_of_magic(int64_t magic) {
  static const std::pair<int64_t, const char*> kNames[] = {
      {0xEF53, "ext4"},        {0x58465342, "xfs"},     {0x9123683E, "btrfs"},
      {0x01021994, "tmpfs"},   {0x794c7630, "overlay"}, {0x2FC12FC1, "zfs"},
      {0xF2F52010, "f2fs"},    {0x6969, "nfs"},         {0x65735546, "fuse"},
      {0xFF534D42, "cifs"},    {0x858458F6, "ramfs"},   {0x73717368, "squashfs"},
      {0xCA451A4E, "bcachefs"}};
  for (const auto& [m, name] : kNames) {
    if (m == magic) return name;
  }
  std::ostringstream unknown;
  unknown << "an unknown filesystem (magic 0x" << std::hex << magic << ")";
  return unknown.str();
}

// mountinfo's filesystem type of the mount whose device is `dev` and whose mount point is the
// longest prefix of `path` (a device can be mounted in several places).
std::string mountinfo_type(const std::string& path, dev_t dev) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, best_type;
  size_t best_len = 0;
  const std::string want = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    if (devno != want) continue;
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream rest(line.substr(sep + 3));
    std::string type;
    rest >> type;
    const bool prefix =
        path == mount_point || mount_point == "/" || path.rfind(mount_point + "/", 0) == 0;
    if (prefix && mount_point.size() >= best_len) {
      best_len = mount_point.size();
      best_type = type;
    }
  }
  return best_type;
}

}  // namespace

sdk::Result<FsFacts> filesystem_of(const std::string& path) {
  FsFacts facts;
  std::string p = path;
  for (;;) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      struct statfs sfs {};
      if (::statfs(p.c_str(), &sfs) != 0) return sdk::errno_error("statfs " + p);
      facts.checked = p;
      facts.magic = static_cast<int64_t>(static_cast<uint32_t>(sfs.f_type));
      facts.type = mountinfo_type(p, st.st_dev);
      if (facts.type.empty()) facts.type = name_of_magic(facts.magic);
      return facts;
    }
    if (errno != ENOENT) return sdk::errno_error("stat " + p);
    size_t slash = p.find_last_of('/');
    if (slash == std::string::npos || p == "/") return sdk::errno_error("stat " + path, ENOENT);
    p = slash == 0 ? "/" : p.substr(0, slash);
  }
}

}  // namespace berth::plugins::btrfs
