// One berthd per data-root: an exclusive flock on <data-root>/berthd.lock, held for the life
// of the process (the kernel drops it if we die, so a crash never leaves a stale lock).
#pragma once

#include <string>

#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::core::daemon {

class DaemonLock {
 public:
  static Result<DaemonLock> acquire(const std::string& data_root);
  DaemonLock(DaemonLock&&) = default;
  DaemonLock& operator=(DaemonLock&&) = default;

 private:
  explicit DaemonLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace berth::core::daemon
