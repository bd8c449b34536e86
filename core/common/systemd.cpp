#include "core/common/systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/common/unique_fd.hpp"

namespace berth::core::systemd {
namespace {

constexpr int kListenFdsStart = 3;  // SD_LISTEN_FDS_START

std::optional<std::string_view> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string_view(v);
}

bool parse_int(std::string_view text, long& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Status notify(std::string_view state) {
  auto target = env("NOTIFY_SOCKET");
  if (!target || target->empty()) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (target->size() >= sizeof addr.sun_path) {
    return make_error(ErrorCode::kInvalidArgument,
                      "NOTIFY_SOCKET is longer than a unix socket path: " + std::string(*target));
  }
  if ((*target)[0] != '/' && (*target)[0] != '@') {
    return make_error(ErrorCode::kInvalidArgument,
                      "NOTIFY_SOCKET must be a path or an abstract name (@...), got " +
                          std::string(*target));
  }
  std::memcpy(addr.sun_path, target->data(), target->size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target->size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return make_error(ErrorCode::kInternal, std::string("sd_notify: socket: ") + std::strerror(errno));
  }
  ssize_t n;
  do {
    n = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return make_error(ErrorCode::kUnavailable, "sd_notify to " + std::string(*target) + ": " +
                                                   std::strerror(errno));
  }
  return {};
}

Result<std::vector<int>> parse_listen_fds(std::optional<std::string_view> listen_pid,
                                          std::optional<std::string_view> listen_fds, int pid) {
  std::vector<int> fds;
  if (!listen_pid || !listen_fds) return fds;
  long for_pid = 0, count = 0;
  if (!parse_int(*listen_pid, for_pid)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "LISTEN_PID is not a number: \"" + std::string(*listen_pid) + "\"");
  }
  // Meant for another process (an ancestor that did not unset it): not ours to take.
  if (for_pid != pid) return fds;
  if (!parse_int(*listen_fds, count) || count < 0 || count > 1024) {
    return make_error(ErrorCode::kInvalidArgument,
                      "LISTEN_FDS is not a count of sockets: \"" + std::string(*listen_fds) + "\"");
  }
  for (long i = 0; i < count; ++i) fds.push_back(kListenFdsStart + static_cast<int>(i));
  return fds;
}

Result<std::vector<int>> take_listen_fds() {
  static std::mutex mutex;
  static bool taken = false;
  std::lock_guard lock(mutex);
  if (taken) return std::vector<int>{};
  taken = true;
  auto fds = parse_listen_fds(env("LISTEN_PID"), env("LISTEN_FDS"), ::getpid());
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!fds) return fds;
  for (int fd : *fds) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
      return make_error(ErrorCode::kInvalidArgument, "inherited socket fd " + std::to_string(fd) +
                                                         " (LISTEN_FDS): " + std::strerror(errno));
    }
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    socklen_t len2 = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
        ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len2) != 0 || listening == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "inherited fd " + std::to_string(fd) +
                            " (LISTEN_FDS) is not a listening stream socket: use "
                            "ListenStream= in berthd.socket");
    }
  }
  return fds;
}

}  // namespace berth::core::systemd
