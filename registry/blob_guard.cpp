#include "registry/blob_guard.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

namespace berth::registry {

BlobGuard::Hold BlobGuard::hold(bool exclusive) const {
  UniqueFd fd(::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd) {
    while (::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) != 0 && errno == EINTR) {
    }
  }
  return Hold(std::move(fd));
}

}  // namespace berth::registry
