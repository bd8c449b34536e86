#include "common/protocol.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation {

bool valid_token(std::string_view id) {
  if (id.empty() || id.size() > 128 || id == "-" || id == "." || id == "..") return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

// Fills `addr` for `path`, going through an O_PATH fd of its directory when the path is too long
// for sun_path. `dir` keeps that fd open for the duration of the call.
sdk::Status socket_address(const std::string& path, sockaddr_un& addr, socklen_t& len,
                           UniqueFd& dir) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::string effective = path;
  if (path.size() >= sizeof addr.sun_path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "socket path too long: " + path);
    }
    dir.reset(::open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return sdk::errno_error("open " + path.substr(0, slash));
    effective = "/proc/self/fd/" + std::to_string(dir.get()) + path.substr(slash);
    if (effective.size() >= sizeof addr.sun_path) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "socket name too long: " + path);
    }
  }
  std::memcpy(addr.sun_path, effective.data(), effective.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + effective.size() + 1);
  return {};
}

}  // namespace

sdk::Result<UniqueFd> unix_connect(const std::string& path) {
  sockaddr_un addr{};
  socklen_t len = 0;
  UniqueFd dir;
  BERTH_TRY_STATUS(socket_address(path, addr, len, dir));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sdk::errno_error("socket");
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return sdk::errno_error("connect " + path);
  return fd;
}

sdk::Result<UniqueFd> unix_listen(const std::string& path) {
  sockaddr_un addr{};
  socklen_t len = 0;
  UniqueFd dir;
  BERTH_TRY_STATUS(socket_address(path, addr, len, dir));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sdk::errno_error("socket");
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return sdk::errno_error("bind " + path);
  }
  if (::listen(fd.get(), 64) != 0) return sdk::errno_error("listen " + path);
  return fd;
}

sdk::Result<std::string> read_line(int fd, int timeout_ms, size_t max_size) {
  std::string line;
  for (;;) {
    struct pollfd p {
      fd, POLLIN, 0
    };
    int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return sdk::errno_error("poll");
    }
    if (rc == 0) return sdk::make_error(sdk::ErrorCode::kDeadlineExceeded, "timed out");
    // Peek first and take exactly the line: whatever follows it (an attach stream, exit
    // events) stays for the next reader.
    char buf[512];
    ssize_t peeked = ::recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (peeked < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return sdk::errno_error("read");
    }
    size_t want = 1;  // 0 peeked: the read below sees the end of the stream
    if (peeked > 0) {
      const void* nl = std::memchr(buf, '\n', static_cast<size_t>(peeked));
      want = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1
                : static_cast<size_t>(peeked);
    }
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return sdk::errno_error("read");
    }
    if (n == 0) {
      return sdk::make_error(sdk::ErrorCode::kUnavailable, "connection closed");
    }
    const auto got = static_cast<size_t>(n);
    if (buf[got - 1] == '\n') {
      line.append(buf, got - 1);
      return line;
    }
    line.append(buf, got);
    if (line.size() > max_size) {
      return sdk::make_error(sdk::ErrorCode::kInternal, "reply line too long");
    }
  }
}

sdk::Result<std::string> parse_reply(std::string_view line) {
  if (line == "ok") return std::string();
  if (line.substr(0, 3) == "ok ") return std::string(line.substr(3));
  if (line.substr(0, 4) == "err ") {
    std::string_view rest = line.substr(4);
    size_t space = rest.find(' ');
    auto code = parse_int64(rest.substr(0, space));
    std::string message =
        space == std::string_view::npos ? "" : std::string(rest.substr(space + 1));
    return sdk::make_error(
        sdk::error_code_from_status(static_cast<berth_status>(code.value_or(11))), message);
  }
  return sdk::make_error(sdk::ErrorCode::kInternal, "bad monitor reply: " + std::string(line));
}

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::string format_error(const sdk::Error& error) {
  return "err " + std::to_string(static_cast<int>(error.code)) + " " + one_line(error.message) +
         "\n";
}

int send_with_fds(int sock, std::string_view data, const int* fds, size_t count) {
  struct iovec iov {
    const_cast<char*>(data.data()), data.size()
  };
  constexpr size_t kMaxFds = 8;
  if (count > kMaxFds) return EINVAL;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  return static_cast<size_t>(n) == data.size() ? 0 : EMSGSIZE;
}

sdk::Status send_fd(int sock, int fd) {
  if (int err = send_with_fds(sock, "F", &fd, 1); err != 0) return sdk::errno_error("send fd", err);
  return {};
}

sdk::Result<UniqueFd> recv_fd(int sock, int timeout_ms) {
  struct pollfd p {
    sock, POLLIN, 0
  };
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return sdk::make_error(sdk::ErrorCode::kDeadlineExceeded, "receive fd: timed out");
  char byte;
  struct iovec iov {
    &byte, 1
  };
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sdk::errno_error("receive fd");
  if (n == 0) return sdk::make_error(sdk::ErrorCode::kUnavailable, "receive fd: peer closed");
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
      return UniqueFd(fd);
    }
  }
  return sdk::make_error(sdk::ErrorCode::kInternal, "receive fd: no descriptor in message");
}

}  // namespace berth::plugins::isolation
