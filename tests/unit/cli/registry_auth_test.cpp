#include <gtest/gtest.h>

#include "berth/sdk/base64.hpp"
#include "cli/client/registry_auth.hpp"

namespace berth::cli {
namespace {

TEST(RegistryAuth, EmptyIsE30) { EXPECT_EQ(encode_registry_auth(), "e30="); }

TEST(RegistryAuth, UrlAlphabetAndRoundTrip) {
  std::string v = encode_registry_auth("capuser", "cappass", "127.0.0.1:5001");
  EXPECT_EQ(v.find('+'), std::string::npos);
  EXPECT_EQ(v.find('/'), std::string::npos);
  auto decoded = sdk::base64_decode(v);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded,
            R"({"username":"capuser","password":"cappass","serveraddress":"127.0.0.1:5001"})");
}

}  // namespace
}  // namespace berth::cli
