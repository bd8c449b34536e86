// prepare_create's refusals for values the fuzzer found crashing it: each is a clean 400-class
// error, never an exception or an overflow.
#include "core/container/create_config.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace berth::core;

namespace {

const image::ImageConfig& busybox_config() {
  static const auto image = image::ImageConfig::parse(
      R"({"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}})");
  return *image;
}

berth::Result<container::PreparedCreate> create(std::string_view body) {
  container::CreateDefaults defaults{2, 10 << 20, 3, false};
  return container::prepare_create(boost::json::parse(body), busybox_config(), "0123456789ab", "busybox",
                                   defaults);
}

TEST(CreateConfig, SignalNumbersBeyondIntAreUnknown) {
  EXPECT_EQ(container::parse_signal("15"), 15);
  EXPECT_EQ(container::parse_signal("65"), 0);
  EXPECT_EQ(container::parse_signal("3333333333333333333333333333333333"), 0);
  auto r = create(R"({"StopSignal":"3333333333333333333333333333333333"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, berth::ErrorCode::kInvalidArgument);
}

TEST(CreateConfig, CpusetRangesWithoutAnEndOrBeyondIntAreRefused) {
  for (const char* cpus : {"0-", "-", "1,-", "99999999999999999999"}) {
    auto r = create(std::string(R"({"HostConfig":{"CpusetCpus":")") + cpus + "\"}}");
    ASSERT_FALSE(r) << cpus;
    EXPECT_EQ(r.error().code, berth::ErrorCode::kInvalidArgument) << cpus;
  }
  EXPECT_TRUE(create(R"({"HostConfig":{"CpusetCpus":"0-1"}})"));
}

TEST(CreateConfig, LogSizeBeyondInt64IsRefused) {
  auto r = create(R"({"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"9999999999999999g"}}}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, berth::ErrorCode::kInvalidArgument);
}

}  // namespace
