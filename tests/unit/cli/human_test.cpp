#include <gtest/gtest.h>

#include "cli/format/human.hpp"

namespace berth::cli {
namespace {

TEST(HumanSize, DecimalThreeDigits) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(1984132), "1.98MB");
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(1000), "1kB");
  EXPECT_EQ(human_size(216687803, 4), "216.7MB");
  EXPECT_EQ(human_size(11, 4), "11B");
  EXPECT_EQ(human_size(1985642, 4), "1.986MB");
}

TEST(HumanSize, Binary) {
  EXPECT_EQ(bytes_size(25276026880.0), "23.54GiB");
  EXPECT_EQ(bytes_size(528384), "516KiB");
  EXPECT_EQ(bytes_size(0), "0B");
}

TEST(HumanDuration, Rules) {
  EXPECT_EQ(human_duration(0.5), "Less than a second");
  EXPECT_EQ(human_duration(1), "1 second");
  EXPECT_EQ(human_duration(59), "59 seconds");
  EXPECT_EQ(human_duration(60), "About a minute");
  EXPECT_EQ(human_duration(119), "About a minute");
  EXPECT_EQ(human_duration(120), "2 minutes");
  EXPECT_EQ(human_duration(3599), "59 minutes");
  EXPECT_EQ(human_duration(3600), "About an hour");
  EXPECT_EQ(human_duration(2 * 3600), "2 hours");
  EXPECT_EQ(human_duration(47 * 3600), "47 hours");
  EXPECT_EQ(human_duration(48 * 3600), "2 days");
  EXPECT_EQ(human_duration(14 * 86400), "2 weeks");
  EXPECT_EQ(human_duration(60 * 86400), "2 months");
  EXPECT_EQ(human_duration(2 * 365 * 86400), "2 years");
}

TEST(HumanUnits, RamInBytes) {
  EXPECT_EQ(ram_in_bytes("64m"), 64 * 1024 * 1024);
  EXPECT_EQ(ram_in_bytes("1g"), 1024LL * 1024 * 1024);
  EXPECT_EQ(ram_in_bytes("512"), 512);
  EXPECT_EQ(ram_in_bytes("10kb"), 10240);
  EXPECT_EQ(ram_in_bytes("x"), -1);
}

TEST(HumanUnits, Durations) {
  double d = 0;
  EXPECT_TRUE(parse_go_duration("1h30m", &d));
  EXPECT_DOUBLE_EQ(d, 5400);
  EXPECT_TRUE(parse_go_duration("1.5s", &d));
  EXPECT_DOUBLE_EQ(d, 1.5);
  EXPECT_FALSE(parse_go_duration("10", &d));
  EXPECT_EQ(api_timestamp("1795372727"), "1795372727");
  EXPECT_EQ(api_timestamp("2026-11-22T18:24:47Z"), "1795371887.000000000");
}

TEST(HumanUnits, Rfc3339) {
  int64_t s = 0, ns = 0;
  ASSERT_TRUE(parse_rfc3339("2026-11-22T18:24:47.832235275Z", &s, &ns));
  EXPECT_EQ(s, 1795371887);
  EXPECT_EQ(ns, 832235275);
}

}  // namespace
}  // namespace berth::cli
