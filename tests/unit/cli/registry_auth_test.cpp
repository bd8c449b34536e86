#include <gtest/gtest.h>

#include "cli/client/registry_auth.hpp"

namespace berth::cli {
namespace {

TEST(RegistryAuth, EmptyIsE30) { EXPECT_EQ(encode_registry_auth(), "e30="); }

TEST(RegistryAuth, UrlAlphabetAndRoundTrip) {
  std::string v = encode_registry_auth("capuser", "cappass", "127.0.0.1:5001");
  EXPECT_EQ(v.find('+'), std::string::npos);
  EXPECT_EQ(v.find('/'), std::string::npos);
  std::string decoded;
  ASSERT_TRUE(base64_decode(v, &decoded));
  EXPECT_EQ(decoded,
            R"({"username":"capuser","password":"cappass","serveraddress":"127.0.0.1:5001"})");
}

TEST(Base64, BothAlphabetsAndPadding) {
  EXPECT_EQ(base64_encode("\xfb\xff", false), "+/8=");
  EXPECT_EQ(base64_encode("\xfb\xff", true), "-_8=");
  std::string out;
  ASSERT_TRUE(base64_decode("-_8", &out));
  EXPECT_EQ(out, "\xfb\xff");
  ASSERT_TRUE(base64_decode("eyJuYW1lIjoiZmlsZS50eHQiLCJzaXplIjo5fQ==", &out));
  EXPECT_EQ(out, R"({"name":"file.txt","size":9})");
}

}  // namespace
}  // namespace berth::cli
