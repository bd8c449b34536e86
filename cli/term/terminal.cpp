#include "cli/term/terminal.hpp"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <mutex>

#include "cli/app/errors.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace {

std::mutex g_mu;
std::map<int, struct termios> g_saved;  // fd -> state before raw mode

}  // namespace

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  struct termios old;
  if (::tcgetattr(fd, &old) != 0) return;
  struct termios raw = old;
  raw.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                                        ICRNL | IXON);
  raw.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  raw.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  {
    std::lock_guard lock(g_mu);
    g_saved[fd] = old;
  }
  if (::tcsetattr(fd, TCSANOW, &raw) == 0) active_ = true;
}

RawTerminal::~RawTerminal() { restore(); }

void RawTerminal::restore() {
  if (!active_) return;
  active_ = false;
  std::lock_guard lock(g_mu);
  auto it = g_saved.find(fd_);
  if (it != g_saved.end()) {
    ::tcsetattr(fd_, TCSANOW, &it->second);
    g_saved.erase(it);
  }
}

void restore_terminals() {
  // Called from the signal-handling thread (not a signal handler), so locking is fine.
  std::lock_guard lock(g_mu);
  for (auto& [fd, state] : g_saved) ::tcsetattr(fd, TCSANOW, &state);
  g_saved.clear();
}

bool terminal_size(int fd, unsigned* rows, unsigned* cols) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) {
    *rows = *cols = 0;
    return false;
  }
  *rows = ws.ws_row;
  *cols = ws.ws_col;
  return true;
}

std::vector<unsigned char> parse_detach_keys(const std::string& spec) {
  std::vector<unsigned char> out;
  for (auto& raw : split(spec, ",")) {
    std::string key = to_lower(trim(raw));
    if (key.size() == 1) {
      out.push_back(static_cast<unsigned char>(trim(raw)[0]));
      continue;
    }
    if (key.starts_with("ctrl-") && key.size() == 6) {
      char c = key[5];
      if (c >= 'a' && c <= 'z') {
        out.push_back(static_cast<unsigned char>(c - 'a' + 1));
        continue;
      }
      static const std::string specials = "@[\\]^_";
      auto pos = specials.find(c);
      if (pos != std::string::npos) {
        out.push_back(static_cast<unsigned char>(pos == 0 ? 0 : 27 + pos - 1));
        continue;
      }
    }
    throw StatusError("Invalid detach keys (" + spec +
                          ") provided: Unknown character: '" + raw + "'",
                      1);
  }
  return out;
}

bool EscapeDetector::feed(const char* data, size_t size, std::string& out) {
  if (keys_.empty()) {
    out.append(data, size);
    return false;
  }
  for (size_t i = 0; i < size; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (c == keys_[matched_]) {
      ++matched_;
      if (matched_ == keys_.size()) {
        matched_ = 0;
        return true;
      }
      continue;
    }
    // A broken partial match: forward what was held back, then re-check this byte.
    if (matched_ > 0) {
      out.append(reinterpret_cast<const char*>(keys_.data()), matched_);
      matched_ = 0;
      if (c == keys_[0]) {
        matched_ = 1;
        if (matched_ == keys_.size()) {
          matched_ = 0;
          return true;
        }
        continue;
      }
    }
    out += static_cast<char>(c);
  }
  return false;
}

}  // namespace berth::cli
