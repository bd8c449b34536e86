// Docker's stdcopy framing of attach, exec and logs streams without a TTY: each chunk is an
// 8-byte header (stream: 0 stdin, 1 stdout, 2 stderr, 3 an error from the daemon; three zero
// bytes; the payload's length, big-endian) and the payload. The one encoder and decoder of the
// core.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::core::api {

// One frame: header and payload.
std::string stdcopy_frame(int stream, std::string_view payload);

// Takes framed bytes in pieces of any size and returns the payloads they carry (what a client
// that asked for a TTY, raw output, is sent when the process had pipes).
class StdcopyUnframer {
 public:
  std::string feed(std::string_view data);

 private:
  std::string header_;
  uint32_t left_ = 0;  // payload bytes left in the current frame
};

}  // namespace berth::core::api
