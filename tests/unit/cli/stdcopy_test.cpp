#include <gtest/gtest.h>

#include "cli/stream/stdcopy.hpp"

namespace berth::cli {
namespace {

TEST(StdDemuxer, SplitsFramesAcrossReads) {
  std::string out, err;
  StdDemuxer d([&](int s, std::string_view p) { (s == 1 ? out : err).append(p); });
  // Captured [exec]: 02 00 00 00 00 00 00 03 'ee\n' then 01 ... 'eo\n'
  std::string stream = make_frame(2, "ee\n") + make_frame(1, "eo\n") + make_frame(1, "");
  for (char c : stream) d.feed(std::string_view(&c, 1));
  EXPECT_EQ(out, "eo\n");
  EXPECT_EQ(err, "ee\n");
  EXPECT_FALSE(d.pending());
}

TEST(StdDemuxer, LargeFrame) {
  std::string payload(100000, 'x');
  std::string got;
  StdDemuxer d([&](int s, std::string_view p) {
    EXPECT_EQ(s, 1);
    got.append(p);
  });
  std::string f = make_frame(1, payload);
  d.feed(std::string_view(f).substr(0, 5));
  EXPECT_TRUE(d.pending());
  d.feed(std::string_view(f).substr(5));
  EXPECT_EQ(got, payload);
}

TEST(StdDemuxer, SystemErrorStream) {
  std::string sys;
  StdDemuxer d([&](int s, std::string_view p) {
    if (s == 3) sys.append(p);
  });
  d.feed(make_frame(3, "boom"));
  EXPECT_EQ(sys, "boom");
}

}  // namespace
}  // namespace berth::cli
