#include "core/api/stdcopy.hpp"

#include <gtest/gtest.h>

namespace berth::core::api {
namespace {

TEST(Stdcopy, FrameHasDockersHeader) {
  std::string f = stdcopy_frame(2, "oops\n");
  ASSERT_EQ(f.size(), 13u);
  EXPECT_EQ(f.substr(0, 8), std::string("\x02\0\0\0\0\0\0\x05", 8));
  EXPECT_EQ(f.substr(8), "oops\n");
  std::string big(70000, 'x');
  std::string g = stdcopy_frame(1, big);
  EXPECT_EQ(g.substr(0, 8), std::string("\x01\0\0\0\0\x01\x11\x70", 8));
}

TEST(Stdcopy, UnframerReturnsPayloadsWhateverThePieces) {
  std::string stream = stdcopy_frame(1, "hello ") + stdcopy_frame(2, "") + stdcopy_frame(2, "world\n");
  for (size_t step : {1u, 3u, 8u, 9u, 100u}) {
    StdcopyUnframer u;
    std::string out;
    for (size_t i = 0; i < stream.size(); i += step) out += u.feed(std::string_view(stream).substr(i, step));
    EXPECT_EQ(out, "hello world\n") << step;
  }
}

}  // namespace
}  // namespace berth::core::api
