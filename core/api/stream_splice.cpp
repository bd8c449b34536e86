#include "core/api/stream_splice.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cctype>

#include "core/api/stdcopy.hpp"

namespace berth::core::api {
namespace {

bool write_fd(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Scans stdin for the detach sequence; holds back a partial match until it is decided.
class DetachScanner {
 public:
  explicit DetachScanner(const std::vector<unsigned char>& keys) : keys_(keys) {}
  // Returns true when the sequence completed; `out` gets the bytes to forward.
  bool feed(const char* data, size_t n, std::string& out) {
    for (size_t i = 0; i < n; ++i) {
      auto c = static_cast<unsigned char>(data[i]);
      if (keys_.empty()) {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (c == keys_[matched_]) {
        held_.push_back(static_cast<char>(c));
        if (++matched_ == keys_.size()) return true;
        continue;
      }
      out += held_;
      held_.clear();
      matched_ = 0;
      if (c == keys_[0]) {
        held_.push_back(static_cast<char>(c));
        matched_ = 1;
        if (keys_.size() == 1) return true;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return false;
  }

 private:
  const std::vector<unsigned char>& keys_;
  std::string held_;
  size_t matched_ = 0;
};

}  // namespace

Result<std::vector<unsigned char>> parse_detach_keys(const std::string& text) {
  std::vector<unsigned char> keys;
  std::string spec = text.empty() ? "ctrl-p,ctrl-q" : text;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    std::string key = spec.substr(start, comma - start);
    start = comma + 1;
    if (key.size() == 1) {
      keys.push_back(static_cast<unsigned char>(key[0]));
    } else if (key.size() == 6 && key.rfind("ctrl-", 0) == 0) {
      char c = key[5];
      if (c >= 'a' && c <= 'z') keys.push_back(static_cast<unsigned char>(c - 'a' + 1));
      else if (c == '@') keys.push_back(0);
      else if (c >= '[' && c <= '_') keys.push_back(static_cast<unsigned char>(c - '[' + 27));
      else return make_error(ErrorCode::kInvalidArgument, "Unknown character: '" + key + "'");
    } else {
      return make_error(ErrorCode::kInvalidArgument, "Unknown character: '" + key + "'");
    }
  }
  return keys;
}

SpliceEnd splice(Transport& client, std::string leftover, int task_fd, const SpliceOptions& options) {
  DetachScanner scanner(options.detach_keys);
  bool client_reading = true;
  auto forward_stdin = [&](const char* data, size_t n) -> bool {
    if (!options.stdin) return true;  // not attached to stdin: drop
    std::string out;
    bool detach = scanner.feed(data, n, out);
    if (!out.empty() && !write_fd(task_fd, out.data(), out.size())) return true;  // task gone: read on
    return !detach;
  };
  if (!leftover.empty() && !forward_stdin(leftover.data(), leftover.size())) return SpliceEnd::kDetached;
  StdcopyUnframer unframer;
  auto forward_output = [&](const char* data, size_t n) -> bool {
    switch (options.framing) {
      case OutputFraming::kAsIs: return client.write_all(data, n).has_value();
      case OutputFraming::kFrame: {
        std::string f = stdcopy_frame(1, std::string_view(data, n));
        return client.write_all(f.data(), f.size()).has_value();
      }
      case OutputFraming::kUnframe: {
        std::string raw = unframer.feed(std::string_view(data, n));
        return raw.empty() || client.write_all(raw.data(), raw.size()).has_value();
      }
    }
    return false;
  };
  char buf[65536];
  for (;;) {
    pollfd fds[2] = {{task_fd, POLLIN, 0}, {client.fd(), static_cast<short>(client_reading ? POLLIN : 0), 0}};
    int timeout = client.pending() > 0 ? 0 : -1;
    int r = ::poll(fds, 2, timeout);
    if (r < 0 && errno != EINTR) return SpliceEnd::kClientGone;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(task_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return SpliceEnd::kTaskEnded;
      if (!forward_output(buf, static_cast<size_t>(n))) return SpliceEnd::kClientGone;
    }
    if (client_reading && ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) || client.pending() > 0)) {
      auto n = client.read_some(buf, sizeof buf);
      if (!n || *n == 0) {
        client_reading = false;
        if (!options.stdin) {
          // The docker CLI half-closes an attach that has no stdin and reads the output on:
          // a client that is really gone shows as a failed write.
          continue;
        }
        if (options.tty) {
          // dockerd ends a TTY session with its input and keeps the terminal's stdin open.
          return SpliceEnd::kClientGone;
        }
        // Stdin EOF for the task (closed there when StdinOnce); the output goes on.
        ::shutdown(task_fd, SHUT_WR);
        continue;
      }
      if (!forward_stdin(buf, *n)) return SpliceEnd::kDetached;
    }
  }
}

}  // namespace berth::core::api
