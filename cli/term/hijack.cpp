#include "cli/term/hijack.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <thread>

#include "cli/commands/common.hpp"
#include "cli/stream/stdcopy.hpp"
#include "cli/term/terminal.hpp"
#include "cli/util/socket_io.hpp"

namespace berth::cli {

HijackEnd pump_hijacked(Hijacked& session, const HijackOptions& opts) {
  int sock = session.conn->native_handle();
  int stop_pipe[2];
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::atomic<bool> detached{false};
  int detach_pipe[2];
  if (::pipe2(detach_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  std::thread input;
  if (opts.send_stdin) {
    input = std::thread([&] {
      EscapeDetector esc(opts.tty ? opts.detach_keys : std::vector<unsigned char>{});
      char buf[32 * 1024];
      while (true) {
        struct pollfd fds[2] = {{0, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
        int r = ::poll(fds, 2, -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (fds[1].revents & (POLLIN | POLLHUP))) return;
        ssize_t n = ::read(0, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
          // stdin EOF: tell the daemon (half-close) and keep reading output.
          ::shutdown(sock, SHUT_WR);
          return;
        }
        std::string out;
        if (esc.feed(buf, static_cast<size_t>(n), out)) {
          if (!out.empty()) send_all(sock, out.data(), out.size());
          detached = true;
          char c = 1;
          (void)!::write(detach_pipe[1], &c, 1);
          return;
        }
        if (!out.empty() && !send_all(sock, out.data(), out.size())) return;
      }
    });
  }

  std::string system_error;
  StdDemuxer demux([&](int stream, std::string_view payload) {
    if (!opts.want_output) return;
    if (stream == 3) {
      system_error.append(payload);
      return;
    }
    write_fd(stream == 2 ? 2 : 1, payload.data(), payload.size());
  });
  auto deliver = [&](const char* data, size_t n) {
    if (opts.tty) {
      if (opts.want_output) write_fd(1, data, n);
    } else {
      demux.feed(std::string_view(data, n));
    }
  };
  if (!session.leftover.empty()) deliver(session.leftover.data(), session.leftover.size());

  char buf[32 * 1024];
  while (true) {
    struct pollfd fds[2] = {{sock, POLLIN, 0}, {detach_pipe[0], POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (fds[1].revents & POLLIN) break;
    ssize_t n = ::recv(sock, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    deliver(buf, static_cast<size_t>(n));
  }

  char c = 1;
  (void)!::write(stop_pipe[1], &c, 1);
  if (input.joinable()) input.join();
  ::close(stop_pipe[0]);
  ::close(stop_pipe[1]);
  ::close(detach_pipe[0]);
  ::close(detach_pipe[1]);
  session.conn->close();
  if (!system_error.empty()) throw std::runtime_error(system_error);
  return detached ? HijackEnd::kDetached : HijackEnd::kOutputDone;
}

}  // namespace berth::cli
