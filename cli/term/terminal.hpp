#pragma once

#include <string>
#include <vector>

namespace berth::cli {

// Puts a terminal fd in raw mode (moby/term MakeRaw: no echo, no canonical input, no signals
// from keys, no output post-processing) and restores it when destroyed. The saved state is also
// registered globally so a fatal signal or exit path can restore it (restore_terminals()).
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  void restore();

 private:
  int fd_;
  bool active_ = false;
};

// Restores every terminal currently in raw mode (async-signal-safe enough: tcsetattr only).
void restore_terminals();

// Terminal size of fd; false (and 0x0) when not a terminal.
bool terminal_size(int fd, unsigned* rows, unsigned* cols);

// Parses docker's detach key syntax ("ctrl-p,ctrl-q", "a", "ctrl-@") into bytes; throws
// StatusError on invalid input.
std::vector<unsigned char> parse_detach_keys(const std::string& spec);

// moby/term EscapeProxy: watches an input byte stream for the detach sequence. feed() returns
// the bytes to forward; a partial match is held back until it completes or breaks.
class EscapeDetector {
 public:
  explicit EscapeDetector(std::vector<unsigned char> keys) : keys_(std::move(keys)) {}
  // Appends forwardable bytes to `out`; returns true when the full sequence was seen (the
  // sequence itself and anything after it are not forwarded).
  bool feed(const char* data, size_t size, std::string& out);

 private:
  std::vector<unsigned char> keys_;
  size_t matched_ = 0;
};

}  // namespace berth::cli
