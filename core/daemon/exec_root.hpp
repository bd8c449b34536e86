// The exec-root holds runtime state only: task directories, monitor sockets, mount points. It
// must start empty after a reboot (a task record naming a pid from the previous boot is a lie),
// and every container start writes a handful of files and directories there. That is what a
// tmpfs is for: where the exec-root already sits on one (/run on most hosts) nothing happens;
// elsewhere berthd mounts a private tmpfs on it.
//
// On a disk filesystem each of those files would cost an inode allocation, and some allocators
// pay for recent deletions on every one (ext4 without a journal scans past every inode freed in
// the last minutes), so a busy host would slow down with its own churn.
#pragma once

#include <string>

#include "core/common/result.hpp"

namespace berth::core::daemon {

class VolatileExecRoot {
 public:
  // Mounts a tmpfs on `path` unless it already is a memory filesystem. A directory that holds
  // files from an earlier berthd (state it would hide from live restore) is left as it is.
  static Result<VolatileExecRoot> prepare(const std::string& path);

  VolatileExecRoot() = default;
  VolatileExecRoot(VolatileExecRoot&&) noexcept;
  VolatileExecRoot& operator=(VolatileExecRoot&&) noexcept;
  VolatileExecRoot(const VolatileExecRoot&) = delete;
  VolatileExecRoot& operator=(const VolatileExecRoot&) = delete;
  ~VolatileExecRoot() = default;

  // At shutdown: unmounts the tmpfs berthd mounted when nothing but empty directories is left
  // in it. Running containers keep it (their monitors' sockets live there, and the kernel
  // refuses to unmount it anyway), so live restore finds their state again.
  void release();

  [[nodiscard]] bool mounted_by_us() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

}  // namespace berth::core::daemon
