#include "monitor/launcher.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/protocol.hpp"
#include "common/sys_util.hpp"
#include "monitor/child_util.hpp"

namespace berth::plugins::isolation {
namespace {

constexpr int kRequestFds = 4;        // report, config, create.json, seccomp: fds 3 to 6
constexpr int kFirstFreeFd = 16;      // received fds move up here, clear of 3 to 6
constexpr size_t kMaxPath = 4096;

// One request: the task directory and its fds (moved to kFirstFreeFd and up). False when the
// plugin closed the socket or the message is not a request.
enum class Received { kRequest, kIgnored, kClosed };

Received receive(int control, std::string& task_dir, int (&fds)[kRequestFds]) {
  char path[kMaxPath];
  struct iovec iov {
    path, sizeof path
  };
  alignas(struct cmsghdr) char control_buf[CMSG_SPACE(sizeof(int) * kRequestFds)] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control_buf;
  msg.msg_controllen = sizeof control_buf;
  ssize_t n = ::recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
  if (n == 0) return Received::kClosed;
  if (n < 0) return errno == EINTR || errno == EAGAIN ? Received::kIgnored : Received::kClosed;
  int got = 0;
  int received[kRequestFds];
  for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      if (got < kRequestFds) {
        received[got++] = fd;
      } else {
        ::close(fd);
      }
    }
  }
  const bool complete = got == kRequestFds && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0;
  for (int i = 0; i < got; ++i) {
    fds[i] = complete ? ::fcntl(received[i], F_DUPFD_CLOEXEC, kFirstFreeFd) : -1;
    ::close(received[i]);
  }
  if (!complete) return Received::kIgnored;
  task_dir.assign(path, static_cast<size_t>(n));
  return Received::kRequest;
}

void reap(int signal_fd) {
  struct signalfd_siginfo info;
  while (::read(signal_fd, &info, sizeof info) == sizeof info) {
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace

int run_launcher(int control_fd, int (*monitor_main)(const std::string& task_dir)) {
  ::prctl(PR_SET_NAME, "berth-launcher", 0, 0, 0);
  if (::chdir("/") != 0) return 1;
  ::umask(022);
  ::fcntl(control_fd, F_SETFD, FD_CLOEXEC);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int signal_fd = ::signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) return 1;
  // Start-up code is not needed again; as in each monitor, only what the loop runs stays.
  drop_file_backed_pages();
  for (;;) {
    struct pollfd p[2] = {{control_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[1].revents != 0) reap(signal_fd);
    if (p[0].revents == 0) continue;
    std::string task_dir;
    int fds[kRequestFds] = {-1, -1, -1, -1};
    auto got = receive(control_fd, task_dir, fds);
    if (got == Received::kClosed) return 0;  // the plugin (berthd) is gone: so are we
    if (got == Received::kIgnored) continue;
    pid_t pid = ::fork();
    if (pid == 0) {
      // The monitor: its fds in place, nothing else of ours, a session of its own.
      for (int i = 0; i < kRequestFds; ++i) ::dup2(fds[i], 3 + i);
      ::syscall(SYS_close_range, 3U + kRequestFds, ~0U, 0U);
      ::setsid();
      ::_exit(monitor_main(task_dir));
    }
    if (pid < 0) {
      const std::string line = format_error(sdk::errno_error("fork the monitor"));
      (void)write_all(fds[0], line.data(), line.size());
    }
    for (int fd : fds) ::close(fd);
  }
}

}  // namespace berth::plugins::isolation
