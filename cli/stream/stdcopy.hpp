#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace berth::cli {

// Demultiplexes docker's framed stdout/stderr stream (attach, exec, logs of non-TTY
// containers): 8-byte header [stream, 0, 0, 0, size BE32] + payload. Frames may be split
// across reads arbitrarily; feed() keeps the partial state.
class StdDemuxer {
 public:
  // stream: 0 stdin, 1 stdout, 2 stderr, 3 system error (payload is the message).
  using Sink = std::function<void(int stream, std::string_view payload)>;
  explicit StdDemuxer(Sink sink) : sink_(std::move(sink)) {}
  void feed(std::string_view data);
  // True when a frame is cut off mid-way (useful at EOF).
  bool pending() const { return !header_.empty() || remaining_ > 0; }

 private:
  Sink sink_;
  std::string header_;
  int stream_ = 0;
  uint32_t remaining_ = 0;
};

// Builds one frame (tests and fakes).
std::string make_frame(int stream, std::string_view payload);

}  // namespace berth::cli
