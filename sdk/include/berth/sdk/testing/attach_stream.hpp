// Reading an attach stream in a test: what a task wrote, demultiplexed from Docker's stdcopy
// frames unless it is a terminal's. Used by the isolation conformance suite and by a backend's
// own tests (tests/conformance/isolation_linux_test.cpp). Part of berth::sdk_testing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace berth::sdk::testing {

struct Output {
  std::string out, err;
  bool closed = false;
};

// Reads until the stream closes or `timeout` passes.
Output read_stream(int fd, bool tty, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Raw bytes until `needle` was seen or `timeout` passed.
std::string read_until(int fd, std::string_view needle, std::chrono::milliseconds timeout);

}  // namespace berth::sdk::testing
