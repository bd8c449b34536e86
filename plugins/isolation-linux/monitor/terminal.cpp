#include "monitor/terminal.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/protocol.hpp"

namespace berth::plugins::isolation {

sdk::Status setup_terminal(int console_socket) {
  UniqueFd master(::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return sdk::errno_error("open /dev/pts/ptmx");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) != 0) return sdk::errno_error("unlock pty");
  unsigned number = 0;
  if (::ioctl(master.get(), TIOCGPTN, &number) != 0) return sdk::errno_error("get pty number");
  const std::string slave_path = "/dev/pts/" + std::to_string(number);
  UniqueFd slave(::open(slave_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return sdk::errno_error("open " + slave_path);
  // A sane default size until the first resize (Docker's client sends one right after start).
  struct winsize ws {};
  ws.ws_row = 24;
  ws.ws_col = 80;
  ::ioctl(master.get(), TIOCSWINSZ, &ws);
  if (auto s = send_fd(console_socket, master.get()); !s) return std::move(s).error().wrap("pty");
  master.reset();
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) return sdk::errno_error("set controlling terminal");
  for (int target = 0; target < 3; ++target) {
    if (::dup2(slave.get(), target) < 0) return sdk::errno_error("dup2 pty");
  }
  return {};
}

sdk::Status setup_stdio(int in, int out, int err) {
  const int fds[3] = {in, out, err};
  for (int target = 0; target < 3; ++target) {
    if (fds[target] == target) {
      int flags = ::fcntl(target, F_GETFD);
      if (flags >= 0) ::fcntl(target, F_SETFD, flags & ~FD_CLOEXEC);
      continue;
    }
    if (::dup2(fds[target], target) < 0) return sdk::errno_error("dup2 stdio");
  }
  return {};
}

}  // namespace berth::plugins::isolation
