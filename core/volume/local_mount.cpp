#include "core/volume/local_mount.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <utility>

namespace berth::core::volume {
namespace {

struct FlagWord {
  std::string_view word;
  bool clear;  // "rw", "nosuid"'s opposite "suid"...: clears the flag instead of setting it
  unsigned long flag;
};

// The table of moby/sys/mount (flags_linux.go), so `o` means what it means to dockerd.
constexpr FlagWord kFlagWords[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};

constexpr std::pair<std::string_view, unsigned long> kPropagationWords[] = {
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
};

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

MountOptions parse_mount_options(std::string_view o) {
  MountOptions out;
  size_t pos = 0;
  while (pos <= o.size()) {
    size_t comma = o.find(',', pos);
    if (comma == std::string_view::npos) comma = o.size();
    std::string_view word = o.substr(pos, comma - pos);
    pos = comma + 1;
    if (word.empty()) continue;
    bool known = false;
    for (const auto& f : kFlagWords) {
      if (f.word == word) {
        if (f.clear) {
          out.flags &= ~f.flag;
        } else {
          out.flags |= f.flag;
        }
        known = true;
        break;
      }
    }
    for (const auto& [w, flag] : kPropagationWords) {
      if (!known && w == word) {
        out.propagation |= flag;
        known = true;
      }
    }
    if (known) continue;
    if (!out.data.empty()) out.data.push_back(',');
    out.data += word;
  }
  return out;
}

Status mount_filesystem(const std::string& device, const std::string& target,
                        const std::string& type, const std::string& o) {
  MountOptions opts = parse_mount_options(o);
  auto fail = [&](std::string_view step) {
    return errno_error("mount " + type + " " + device + " on " + target + std::string(step));
  };
  if (::mount(device.c_str(), target.c_str(), type.c_str(), opts.flags,
              opts.data.empty() ? nullptr : opts.data.c_str()) != 0) {
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
