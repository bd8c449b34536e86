// Mounting driver mount specs (see mount.hpp). Compiled into both sides of the SDK: plugins (the
// isolation backend mounts a container's rootfs) and the host (the core applies layers).
// Over 600 lines on purpose: bind, overlay (fsconfig and the relative-path fallback for long
// lowerdirs) and their undo share one parsed-options type and the same error wording; split,
// every part would export its internals to the others.
#include "berth/sdk/mount.hpp"
#include "berth/sdk/mount_options.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include "berth/sdk/detail/syscall_numbers.h"
#include "berth/sdk/unique_fd.hpp"

namespace berth::sdk {
namespace {

namespace fs = std::filesystem;

// The new mount API through raw syscalls (numbers: berth/sdk/detail/syscall_numbers.h).
constexpr unsigned kFsopenCloexec = 0x1;
constexpr unsigned kFsconfigSetFlag = 0;
constexpr unsigned kFsconfigSetString = 1;
constexpr unsigned kFsconfigCmdCreate = 6;
constexpr unsigned kFsmountCloexec = 0x1;
constexpr unsigned kMoveMountFEmptyPath = 0x4;
constexpr uint64_t kAttrRdonly = 0x1;
constexpr uint64_t kAttrNosuid = 0x2;
constexpr uint64_t kAttrNodev = 0x4;
constexpr uint64_t kAttrNoexec = 0x8;
constexpr uint64_t kAttrNoatime = 0x10;
constexpr uint64_t kAttrStrictatime = 0x20;
constexpr uint64_t kAttrNodiratime = 0x80;
constexpr unsigned kAtRecursive = 0x8000;
// fsconfig copies string values with strndup_user(value, 256): longer ones are refused.
constexpr size_t kFsconfigMaxValue = 255;

struct MountAttrV0 {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

int sys_fsopen(const char* fs_name, unsigned flags) {
  return static_cast<int>(::syscall(SYS_fsopen, fs_name, flags));
}
int sys_fsconfig(int fd, unsigned cmd, const char* key, const char* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attr_flags) {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attr_flags));
}
int sys_move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}
int sys_mount_setattr(int dfd, const char* path, unsigned flags, MountAttrV0* attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr)));
}

using Fd = UniqueFd;

// errno_error with the strerror text lowercased, as every SDK message is ("invalid argument").
Error sys_error(std::string_view what, int err) {
  Error e = errno_error(what, err);
  size_t pos = what.size() + 2;
  if (pos < e.message.size()) {
    e.message[pos] = static_cast<char>(std::tolower(static_cast<unsigned char>(e.message[pos])));
  }
  return e;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// ---- options --------------------------------------------------------------------------------

// The words themselves are read by the one table in mount_options.cpp; "loop" is refused here
// because nothing in Berth sets up loop devices for a mount.
using ParsedOptions = MountOptions;

Result<ParsedOptions> parse_options(const Mount& m) {
  for (const auto& opt : m.options) {
    if (opt == "loop") return make_error(ErrorCode::kUnsupported, "loop mounts are not supported");
  }
  return parse_mount_options(m.options);
}

// ---- overlay lower dirs -----------------------------------------------------------------------

struct LowerDirs {
  std::vector<std::string> layers;     // topmost first, unescaped
  std::vector<std::string> data_only;  // after "::" (data-only layers, Linux >= 6.5)
};

// Splits an overlay lowerdir value on unescaped ':' ("\:" is a literal colon; "::" starts the
// data-only layers).
Result<LowerDirs> split_lowerdir(std::string_view value) {
  LowerDirs out;
  bool data_only = false;
  bool valid = true;
  std::string current;
  auto flush = [&]() {
    if (current.empty()) valid = false;
    (data_only ? out.data_only : out.layers).push_back(std::move(current));
    current.clear();
  };
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && i + 1 < value.size()) {
      current += value[++i];
    } else if (c == ':') {
      flush();
      if (i + 1 < value.size() && value[i + 1] == ':') {
        if (data_only) valid = false;
        data_only = true;
        ++i;
      }
    } else {
      current += c;
    }
  }
  flush();
  if (!valid || out.layers.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid overlay lowerdir \"" + std::string(value.substr(0, 200)) + "\"");
  }
  return out;
}

std::string escape_lower(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string lowerdir_value(const std::vector<std::string>& layers,
                           const std::vector<std::string>& data_only) {
  std::string out;
  for (const auto& l : layers) {
    if (!out.empty()) out += ':';
    out += escape_lower(l);
  }
  if (!data_only.empty()) {
    out += ':';
    for (const auto& d : data_only) out += ":" + escape_lower(d);
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

long page_size() {
  long page = ::sysconf(_SC_PAGESIZE);
  return page > 0 ? page : 4096;
}

// ---- one mount --------------------------------------------------------------------------------

std::string what_of(const Mount& m, const std::string& dest) {
  return "mount " + (m.type.empty() ? std::string("bind") : m.type) + " on " + dest;
}

Status apply_propagation(const Mount& m, const ParsedOptions& p, const std::string& dest) {
  if (p.propagation == 0) return {};
  if (::mount(nullptr, dest.c_str(), nullptr, p.propagation, nullptr) != 0) {
    return sys_error("set propagation of " + m.type + " on " + dest, errno);
  }
  return {};
}

void undo_mount(const std::string& dest) {
  if (::umount2(dest.c_str(), UMOUNT_NOFOLLOW) != 0) {
    ::umount2(dest.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  }
}

Status mount_bind(const Mount& m, const ParsedOptions& p, const std::string& dest) {
  const std::string what = what_of(m, dest);
  unsigned long base = MS_BIND | (p.flags & MS_REC);
  if (::mount(m.source.c_str(), dest.c_str(), nullptr, base, nullptr) != 0) {
    return sys_error(what + " from " + m.source, errno);
  }
  // A bind ignores every other flag: ro, nosuid, ... need a remount of the new mount.
  unsigned long extra = p.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (extra != 0) {
    unsigned long flags = MS_BIND | MS_REMOUNT | extra;
    int rc = ::mount(nullptr, dest.c_str(), nullptr, flags, nullptr);
    if (rc != 0 && errno == EPERM) {
      // In a user namespace the flags the source mount had are locked: keep them and retry.
      struct statvfs st {};
      if (::statvfs(dest.c_str(), &st) == 0) {
        if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
        if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
        if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
        if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
        rc = ::mount(nullptr, dest.c_str(), nullptr, flags, nullptr);
      }
    }
    if (rc != 0) {
      int err = errno;
      undo_mount(dest);
      return sys_error(
          "remount " + std::string((extra & MS_RDONLY) ? "read-only " : "") + "bind on " + dest,
          err);
    }
    // The remount only changed the top mount; an rbind's submounts become read-only through
    // mount_setattr(AT_RECURSIVE) where the kernel has it (>= 5.12).
    if ((p.flags & MS_REC) && (extra & MS_RDONLY)) {
      MountAttrV0 attr{kAttrRdonly, 0, 0, 0};
      if (sys_mount_setattr(AT_FDCWD, dest.c_str(), kAtRecursive, &attr) != 0 && errno != ENOSYS) {
        int err = errno;
        undo_mount(dest);
        return sys_error("make " + dest + " recursively read-only", err);
      }
    }
  }
  return {};
}

// Reads the messages the kernel left in an fs context ("e overlay: failed to ...").
std::string fs_context_log(int fd) {
  std::string out;
  std::array<char, 1024> buf{};
  for (int i = 0; i < 32; ++i) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    std::string_view line(buf.data(), static_cast<size_t>(n));
    while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line.size() > 2 && (line[0] == 'e' || line[0] == 'w') && line[1] == ' ') {
      line.remove_prefix(2);
      if (!out.empty()) out += "; ";
      out += line;
    }
  }
  return out;
}

Error with_log(Error e, const std::string& log) {
  if (!log.empty()) e.message += " (" + log + ")";
  return e;
}

// Returns false when this kernel (or a seccomp filter) lacks fsopen or fsconfig("lowerdir+"),
// or a value is too long for fsconfig: the caller falls back to relative paths.
Result<bool> mount_overlay_fsconfig(const Mount& m, const ParsedOptions& p, const LowerDirs& lower,
                                    const std::string& dest) {
  const std::string what = what_of(m, dest);
  for (const auto& opt : p.data) {
    if (!starts_with(opt, "lowerdir=") && opt.size() > kFsconfigMaxValue) return false;
  }
  for (const auto& dir : lower.layers) {
    if (dir.size() > kFsconfigMaxValue) return false;
  }
  for (const auto& dir : lower.data_only) {
    if (dir.size() > kFsconfigMaxValue) return false;
  }
  Fd fs(sys_fsopen("overlay", kFsopenCloexec));
  if (fs.get() < 0) {
    if (errno == ENOSYS || errno == EPERM) return false;
    return sys_error(what + ": fsopen", errno);
  }
  bool first = true;
  for (const auto& dir : lower.layers) {
    if (sys_fsconfig(fs.get(), kFsconfigSetString, "lowerdir+", dir.c_str(), 0) != 0) {
      int err = errno;
      // An unknown key is EINVAL: this kernel predates "lowerdir+" (6.8).
      if (first && err == EINVAL) return false;
      return with_log(sys_error(what + ": lower " + dir, err), fs_context_log(fs.get()));
    }
    first = false;
  }
  for (const auto& dir : lower.data_only) {
    if (sys_fsconfig(fs.get(), kFsconfigSetString, "datadir+", dir.c_str(), 0) != 0) {
      int err = errno;
      return with_log(sys_error(what + ": data-only lower " + dir, err), fs_context_log(fs.get()));
    }
  }
  if (!m.source.empty() && m.source.size() <= kFsconfigMaxValue) {
    sys_fsconfig(fs.get(), kFsconfigSetString, "source", m.source.c_str(), 0);
  }
  for (const auto& opt : p.data) {
    if (starts_with(opt, "lowerdir=")) continue;
    size_t eq = opt.find('=');
    int rc = 0;
    if (eq == std::string::npos) {
      rc = sys_fsconfig(fs.get(), kFsconfigSetFlag, opt.c_str(), nullptr, 0);
    } else {
      std::string key = opt.substr(0, eq);
      std::string value = opt.substr(eq + 1);
      rc = sys_fsconfig(fs.get(), kFsconfigSetString, key.c_str(), value.c_str(), 0);
    }
    if (rc != 0) {
      int err = errno;
      return with_log(sys_error(what + ": option " + opt.substr(0, 200), err),
                      fs_context_log(fs.get()));
    }
  }
  if (p.flags & MS_RDONLY) sys_fsconfig(fs.get(), kFsconfigSetFlag, "ro", nullptr, 0);
  if (sys_fsconfig(fs.get(), kFsconfigCmdCreate, nullptr, nullptr, 0) != 0) {
    int err = errno;
    return with_log(sys_error(what, err), fs_context_log(fs.get()));
  }
  unsigned attrs = 0;
  if (p.flags & MS_RDONLY) attrs |= kAttrRdonly;
  if (p.flags & MS_NOSUID) attrs |= kAttrNosuid;
  if (p.flags & MS_NODEV) attrs |= kAttrNodev;
  if (p.flags & MS_NOEXEC) attrs |= kAttrNoexec;
  if (p.flags & MS_NOATIME) attrs |= kAttrNoatime;
  if (p.flags & MS_STRICTATIME) attrs |= kAttrStrictatime;
  if (p.flags & MS_NODIRATIME) attrs |= kAttrNodiratime;
  Fd mnt(sys_fsmount(fs.get(), kFsmountCloexec, attrs));
  if (mnt.get() < 0) {
    int err = errno;
    return with_log(sys_error(what + ": fsmount", err), fs_context_log(fs.get()));
  }
  if (sys_move_mount(mnt.get(), "", AT_FDCWD, dest.c_str(), kMoveMountFEmptyPath) != 0) {
    return sys_error(what + ": move mount", errno);
  }
  return true;
}

// The longest directory that contains every path (component-wise).
std::string common_dir(const std::vector<const std::string*>& paths) {
  fs::path common = fs::path(*paths.front()).lexically_normal().parent_path();
  for (const auto* p : paths) {
    fs::path candidate = fs::path(*p).lexically_normal();
    fs::path prefix;
    auto a = common.begin();
    auto b = candidate.begin();
    for (; a != common.end() && b != candidate.end() && *a == *b; ++a, ++b) prefix /= *a;
    common = prefix;
  }
  std::string out = common.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? "/" : out;
}

// mount(2) with lower paths relative to their common parent: the kernel resolves them against
// the caller's cwd, so the mount runs on a helper thread that first unshares its fs struct
// (CLONE_FS) and chdirs there, leaving the process-wide cwd alone.
Status mount_overlay_relative(const Mount& m, const ParsedOptions& p, const LowerDirs& lower,
                              const std::string& dest) {
  const std::string what = what_of(m, dest);
  std::vector<const std::string*> all;
  for (const auto& d : lower.layers) all.push_back(&d);
  for (const auto& d : lower.data_only) all.push_back(&d);
  for (const auto* d : all) {
    if (d->empty() || d->front() != '/') {
      return make_error(ErrorCode::kInvalidArgument,
                        what + ": lower directory " + *d + " is not absolute");
    }
  }
  for (const auto& opt : p.data) {
    if ((starts_with(opt, "upperdir=") || starts_with(opt, "workdir=")) &&
        opt.find("=/") == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        what + ": " + opt.substr(0, opt.find('=')) + " is not absolute");
    }
  }
  const std::string common = common_dir(all);
  auto relative = [&](const std::string& path) {
    std::string rel = fs::path(path).lexically_normal().lexically_relative(common).string();
    return rel.empty() ? std::string(".") : rel;
  };
  std::vector<std::string> rel_layers, rel_data;
  for (const auto& d : lower.layers) rel_layers.push_back(relative(d));
  for (const auto& d : lower.data_only) rel_data.push_back(relative(d));
  std::vector<std::string> data;
  for (const auto& opt : p.data) {
    data.push_back(
        starts_with(opt, "lowerdir=") ? "lowerdir=" + lowerdir_value(rel_layers, rel_data) : opt);
  }
  std::string joined = join(data, ',');
  if (static_cast<long>(joined.size()) + 1 > page_size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      what + ": " + std::to_string(lower.layers.size()) +
                          " lower directories exceed the mount option size limit even relative "
                          "to " +
                          common);
  }
  int err = 0;
  std::string stage;
  try {
    std::thread helper([&]() noexcept {
      if (::unshare(CLONE_FS) != 0) {
        err = errno;
        stage = ": unshare cwd";
        return;
      }
      if (::chdir(common.c_str()) != 0) {
        err = errno;
        stage = ": chdir " + common;
        return;
      }
      if (::mount(m.source.c_str(), dest.c_str(), m.type.c_str(), p.flags, joined.c_str()) != 0) {
        err = errno;
      }
    });
    helper.join();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, what + ": helper thread: " + e.what());
  }
  if (err != 0) return sys_error(what + stage, err);
  return {};
}

Status mount_overlay(const Mount& m, const ParsedOptions& p, const std::string& dest,
                     OverlayMountMethod method) {
  const std::string what = what_of(m, dest);
  std::string data = join(p.data, ',');
  bool fits = static_cast<long>(data.size()) + 1 <= page_size();
  if (method == OverlayMountMethod::kMountData || (method == OverlayMountMethod::kAuto && fits)) {
    // The kernel would silently cut the data at a page and fail on a truncated path.
    if (!fits) {
      return make_error(ErrorCode::kInvalidArgument,
                        what + ": " + std::to_string(data.size()) +
                            " bytes of options exceed the mount(2) limit of one page (" +
                            std::to_string(page_size()) + " bytes)");
    }
    if (::mount(m.source.c_str(), dest.c_str(), "overlay", p.flags, data.c_str()) != 0) {
      return sys_error(what, errno);
    }
    return {};
  }
  std::optional<LowerDirs> lower;
  for (const auto& opt : p.data) {
    if (!starts_with(opt, "lowerdir=")) continue;
    auto split = split_lowerdir(std::string_view(opt).substr(9));
    if (!split) return std::move(split).error().wrap(what);
    lower = std::move(*split);
  }
  if (!lower) return make_error(ErrorCode::kInvalidArgument, what + ": no lowerdir option");
  if (method == OverlayMountMethod::kAuto || method == OverlayMountMethod::kFsconfig) {
    auto done = mount_overlay_fsconfig(m, p, *lower, dest);
    if (!done) return std::move(done).error();
    if (*done) return {};
    if (method == OverlayMountMethod::kFsconfig) {
      return make_error(ErrorCode::kUnsupported,
                        what +
                            ": fsconfig \"lowerdir+\" is unavailable here (it needs Linux "
                            ">= 6.8 and paths under 256 bytes)");
    }
  }
  return mount_overlay_relative(m, p, *lower, dest);
}

Status mount_one(const Mount& m, const std::string& dest, const MountAllOptions& options) {
  auto parsed = parse_options(m);
  if (!parsed) return std::move(parsed).error().wrap(what_of(m, dest));
  const ParsedOptions& p = *parsed;
  if (m.type == "bind" || m.type == "rbind" || (p.flags & MS_BIND)) {
    ParsedOptions bind = p;
    if (m.type == "rbind") bind.flags |= MS_REC;
    BERTH_TRY_STATUS(mount_bind(m, bind, dest));
  } else if (m.type == "overlay") {
    BERTH_TRY_STATUS(mount_overlay(m, p, dest, options.overlay_method));
  } else {
    if (m.type.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "mount on " + dest + ": no type");
    }
    std::string data = join(p.data, ',');
    if (::mount(m.source.c_str(), dest.c_str(), m.type.c_str(), p.flags,
                data.empty() ? nullptr : data.c_str()) != 0) {
      return sys_error(what_of(m, dest), errno);
    }
  }
  Status prop = apply_propagation(m, p, dest);
  if (!prop) undo_mount(dest);
  return prop;
}

Result<std::string> destination(const std::string& base, const Mount& m) {
  std::string_view rel = m.target;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  if (rel.empty()) return base;
  for (const auto& part : fs::path(rel)) {
    if (part == "..") {
      return make_error(ErrorCode::kInvalidArgument,
                        "mount " + m.type + ": target " + m.target + " escapes the mount root");
    }
  }
  return (fs::path(base) / rel).lexically_normal().string();
}

// ---- mountinfo --------------------------------------------------------------------------------

// Mount points are octal-escaped in mountinfo ("\040" for a space).
std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 2])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 3]))) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Mount points at or below `dir` (canonical), in mountinfo order.
std::vector<std::string> mount_points_below(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    if (!(fields >> id >> parent >> devno >> root >> point)) continue;
    std::string path = unescape_mountinfo(point);
    if (path == dir || (starts_with(path, dir) && (dir == "/" || path[dir.size()] == '/'))) {
      out.push_back(std::move(path));
    }
  }
  return out;
}

}  // namespace

Status mount_all(const std::vector<Mount>& mounts, const std::string& target) {
  return mount_all(mounts, target, MountAllOptions{});
}

Status mount_all(const std::vector<Mount>& mounts, const std::string& target,
                 const MountAllOptions& options) {
  if (target.empty()) return make_error(ErrorCode::kInvalidArgument, "mount: empty target");
  std::error_code ec;
  // Absolute up front: the relative-path overlay method mounts from another cwd.
  std::string base = fs::absolute(target, ec).lexically_normal().string();
  if (ec)
    return make_error(ErrorCode::kInvalidArgument, "mount on " + target + ": " + ec.message());
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::vector<std::string> done;
  for (const auto& m : mounts) {
    auto dest = destination(base, m);
    Status s = dest ? mount_one(m, *dest, options) : Status(dest.error());
    if (!s) {
      for (auto it = done.rbegin(); it != done.rend(); ++it) undo_mount(*it);
      return s;
    }
    done.push_back(*dest);
  }
  return {};
}

Status unmount_all(const std::string& target) {
  if (target.empty()) return make_error(ErrorCode::kInvalidArgument, "unmount: empty target");
  char resolved[PATH_MAX];
  if (::realpath(target.c_str(), resolved) == nullptr) {
    if (errno == ENOENT) return {};
    return sys_error("unmount " + target, errno);
  }
  const std::string dir(resolved);
  // Each pass unmounts the deepest mounts first; stacked mounts on one path need one pass each.
  // Bounded: a pass that unmounts nothing ends the loop.
  for (int pass = 0; pass < 4096; ++pass) {
    std::vector<std::string> points = mount_points_below(dir);
    if (points.empty()) return {};
    // Deepest first; equal paths (stacked mounts) side by side so unique() folds them: the
    // next pass takes the one below.
    std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() > b.size() : a < b;
    });
    points.erase(std::unique(points.begin(), points.end()), points.end());
    bool progressed = false;
    for (const auto& p : points) {
      int rc = -1;
      for (int attempt = 0; attempt < 5; ++attempt) {
        rc = ::umount2(p.c_str(), UMOUNT_NOFOLLOW);
        if (rc == 0 || errno != EBUSY) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      // Still busy (an open file, a process cwd): detach it so the path is free; the kernel
      // finishes the unmount when the last user goes away.
      if (rc != 0 && errno == EBUSY) rc = ::umount2(p.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
      if (rc == 0) {
        progressed = true;
      } else if (errno != EINVAL && errno != ENOENT) {
        return sys_error("unmount " + p, errno);
      }
    }
    if (!progressed) {
      return make_error(ErrorCode::kInternal,
                        "unmount " + points.front() + ": still mounted but cannot be unmounted");
    }
  }
  return make_error(ErrorCode::kInternal, "unmount " + dir + ": too many mounts");
}

Result<std::vector<std::string>> mount_points_under(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    if (errno == ENOENT) return std::vector<std::string>{};
    return sys_error("resolve " + path, errno);
  }
  return mount_points_below(resolved);
}

std::string describe(const Mount& mount) {
  std::string opts = join(mount.options, ',');
  constexpr size_t kMax = 240;
  if (opts.size() > kMax) {
    opts = opts.substr(0, kMax) + "... (" + std::to_string(mount.options.size()) + " options, " +
           std::to_string(opts.size()) + " bytes)";
  }
  std::string out = mount.type.empty() ? "bind" : mount.type;
  out += " " + (mount.source.empty() ? std::string("none") : mount.source);
  out += " on " + (mount.target.empty() ? std::string("/") : mount.target);
  if (!opts.empty()) out += " (" + opts + ")";
  return out;
}

// ---- ScopedMounts ---------------------------------------------------------------------------

Result<ScopedMounts> ScopedMounts::mount(const std::vector<Mount>& mounts, std::string target,
                                         const MountAllOptions& options) {
  BERTH_TRY_STATUS(mount_all(mounts, target, options));
  // Absolute, so the destructor unmounts the right place whatever the cwd is by then.
  std::error_code ec;
  std::string absolute = fs::absolute(target, ec).lexically_normal().string();
  return ScopedMounts(ec ? std::move(target) : std::move(absolute));
}

ScopedMounts::~ScopedMounts() {
  if (!target_.empty()) (void)unmount_all(target_);
}

ScopedMounts& ScopedMounts::operator=(ScopedMounts&& other) noexcept {
  if (this != &other) {
    if (!target_.empty()) (void)unmount_all(target_);
    target_ = std::exchange(other.target_, {});
  }
  return *this;
}

Status ScopedMounts::unmount() {
  if (target_.empty()) return {};
  Status s = unmount_all(target_);
  if (s) target_.clear();
  return s;
}

}  // namespace berth::sdk
