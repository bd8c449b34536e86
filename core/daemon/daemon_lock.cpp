#include "core/daemon/daemon_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

namespace berth::core::daemon {

Result<DaemonLock> DaemonLock::acquire(const std::string& data_root) {
  std::string path = data_root + "/berthd.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return errno_error("open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return errno_error("lock " + path);
    char buf[32] = {};
    ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return make_error(ErrorCode::kAlreadyExists,
                      "another berthd (pid " + pid + ") is using data-root " + data_root +
                          ": stop it first, or give this one its own --data-root");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return errno_error("write " + path);
  }
  return DaemonLock(std::move(fd));
}

}  // namespace berth::core::daemon
