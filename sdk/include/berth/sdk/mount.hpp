// Mounting the specs a storage driver returns. Drivers never mount; the core (applying layers into
// a prepared snapshot) and the isolation backend (a container's rootfs, inside its mount
// namespace) do, with these helpers, so every caller handles options the same way.
//
// Supported: "bind" (options "bind"/"rbind", "ro"/"rw" and the usual flags; a read-only bind is a
// bind followed by a MS_REMOUNT|MS_BIND|MS_RDONLY remount, recursively read-only for "rbind"),
// "overlay" (lowerdir=, upperdir=, workdir= and any other option passed through), and any other
// filesystem type, passed to mount(2) with its flag options turned into MS_* flags and the rest
// joined into the data string. Overlays with more lower layers than one page of mount(2) options
// can hold go through the new mount API (fsconfig "lowerdir+", Linux >= 6.8) or, where that is
// unavailable, through lower paths made relative to their common parent directory.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk {

// How an overlay is handed to the kernel. kAuto is right for every caller; the others force one
// method, for tests and for diagnosing a kernel.
enum class OverlayMountMethod {
  kAuto,           // mount(2) when the options fit in a page, else kFsconfig, else kRelativePaths
  kMountData,      // mount(2) with the option string as data (fails when it exceeds a page)
  kFsconfig,       // fsopen + fsconfig("lowerdir+") per layer + fsmount + move_mount
  kRelativePaths,  // mount(2) with lower paths relative to their common parent, from a helper
                   // thread that unshared its cwd (the process-wide cwd is never touched)
};

struct MountAllOptions {
  OverlayMountMethod overlay_method = OverlayMountMethod::kAuto;
};

// Mounts `mounts` in order; each lands on `target` joined with its own relative `target` (empty:
// `target` itself; a ".." component is refused). On failure of the n-th
// mount the n-1 before it are unmounted again, so a failed call leaves nothing mounted. Errors
// name the mount: "mount overlay on /run/x: invalid argument".
Status mount_all(const std::vector<Mount>& mounts, const std::string& target);
Status mount_all(const std::vector<Mount>& mounts, const std::string& target,
                 const MountAllOptions& options);

// Unmounts every mount at or below `target`, deepest first, including mounts stacked on the same
// path. A busy mount is retried briefly, then detached (MNT_DETACH) so the path is free either
// way. A `target` that does not exist is not an error (nothing can be mounted there).
Status unmount_all(const std::string& target);

// Mount points at or below `path` (resolved to its canonical form), from /proc/self/mountinfo in
// mount order; a stacked mount point appears once per mount. A missing `path` has none.
Result<std::vector<std::string>> mount_points_under(const std::string& path);

// One line for logs and errors: "overlay overlay on /run/x (index=off,workdir=...)"; very long
// option lists are shortened.
std::string describe(const Mount& mount);

// Mounts held for the life of the object: unmount_all(target) in the destructor (errors there are
// swallowed; call unmount() first to see them).
class ScopedMounts {
 public:
  ScopedMounts() = default;
  static Result<ScopedMounts> mount(const std::vector<Mount>& mounts, std::string target,
                                    const MountAllOptions& options = {});
  ~ScopedMounts();
  ScopedMounts(ScopedMounts&& other) noexcept : target_(std::exchange(other.target_, {})) {}
  ScopedMounts& operator=(ScopedMounts&& other) noexcept;
  ScopedMounts(const ScopedMounts&) = delete;
  ScopedMounts& operator=(const ScopedMounts&) = delete;

  [[nodiscard]] const std::string& target() const { return target_; }
  [[nodiscard]] bool active() const { return !target_.empty(); }
  Status unmount();
  // Gives up ownership: the mounts stay and the destructor does nothing.
  std::string release() { return std::exchange(target_, {}); }

 private:
  explicit ScopedMounts(std::string target) : target_(std::move(target)) {}
  std::string target_;
};

}  // namespace berth::sdk
