#include "core/network/netns.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace berth::core::network {
namespace {

Status loopback_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error("socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  Status s;
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    s = errno_error("get flags of lo");
  } else {
    ifr.ifr_flags |= IFF_UP;
    if (::ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) s = errno_error("bring lo up");
  }
  ::close(fd);
  return s;
}

}  // namespace

Status create_netns(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0 && errno != EEXIST) return errno_error("create " + path);
  if (fd >= 0) ::close(fd);
  // unshare() changes the calling thread's namespace only for CLONE_NEWNET; a short-lived
  // thread keeps berthd's own threads where they are.
  Status result;
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = errno_error("unshare(CLONE_NEWNET)");
      return;
    }
    std::string self = "/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/ns/net";
    if (::mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      result = errno_error("bind " + self + " on " + path);
      return;
    }
    result = loopback_up();
  });
  worker.join();
  if (!result) (void)remove_netns(path);
  return result;
}

Status remove_netns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return errno_error("unmount " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("remove " + path);
  return {};
}

}  // namespace berth::core::network
