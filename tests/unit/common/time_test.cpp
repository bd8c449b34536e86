#include "core/common/time.hpp"

#include <gtest/gtest.h>

namespace {

TEST(Time, Rfc3339RoundTrip) {
  EXPECT_EQ(berth::rfc3339_nano(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(berth::rfc3339_nano(1795372779585073019), "2026-11-22T18:39:39.585073019Z");
  EXPECT_EQ(*berth::parse_rfc3339("2026-11-22T18:39:39.585073019Z"), 1795372779585073019);
  EXPECT_EQ(*berth::parse_rfc3339("2026-11-22T19:39:39+01:00"), 1795372779000000000);
  EXPECT_EQ(*berth::parse_rfc3339("0001-01-01T00:00:00Z"), 0);
  EXPECT_FALSE(berth::parse_rfc3339("yesterday"));
  EXPECT_EQ(berth::rfc3339_seconds(1795372779), "2026-11-22T18:39:39Z");
}

TEST(Time, DockersTimestampParameters) {
  EXPECT_EQ(*berth::parse_timestamp_param("1795372779"), 1795372779000000000);
  EXPECT_EQ(*berth::parse_timestamp_param("1795372779.5"), 1795372779500000000);
  EXPECT_EQ(*berth::parse_timestamp_param("1795372779.000000001"), 1795372779000000001);
  EXPECT_EQ(*berth::parse_timestamp_param("2026-11-22T18:39:39Z"), 1795372779000000000);
  EXPECT_FALSE(berth::parse_timestamp_param("12x"));
  EXPECT_FALSE(berth::parse_timestamp_param(""));
}

}  // namespace
