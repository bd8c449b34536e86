#include "core/volume/local_mount.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

namespace berth::core::volume {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') {
          ok = false;
          break;
        }
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

Status mount_filesystem(const std::string& device, const std::string& target,
                        const std::string& type, const std::string& o) {
  MountOptions opts = parse_mount_options(o);
  auto fail = [&](std::string_view step) {
    return errno_error("mount " + type + " " + device + " on " + target + std::string(step));
  };
  const std::string data = opts.data_string();
  if (::mount(device.c_str(), target.c_str(), type.c_str(), opts.flags,
              data.empty() ? nullptr : data.c_str()) != 0) {
    return fail("");
  }
  // From here a failure must not leave the first mount behind.
  auto undo = [&](Error e) {
    ::umount2(target.c_str(), MNT_DETACH);
    return e;
  };
  if (opts.propagation != 0 &&
      ::mount("", target.c_str(), nullptr, opts.propagation, nullptr) != 0) {
    return undo(fail(": set propagation"));
  }
  if ((opts.flags & (MS_BIND | MS_RDONLY)) == (MS_BIND | MS_RDONLY) &&
      ::mount("", target.c_str(), nullptr, opts.flags | MS_REMOUNT, nullptr) != 0) {
    return undo(fail(": remount read-only"));
  }
  return {};
}

Status unmount_filesystem(const std::string& target) {
  if (::umount2(target.c_str(), MNT_DETACH) == 0) return {};
  if (errno == EINVAL || errno == ENOENT) {
    if (!is_mount_point(target)) return {};
  }
  return errno_error("unmount " + target);
}

bool is_mount_point(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "<id> <parent> <maj:min> <root> <mount point> ..."
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    if (!(fields >> id >> parent >> dev >> root >> point)) continue;
    if (unescape_mountinfo(point) == path) return true;
  }
  return false;
}

}  // namespace berth::core::volume
