// The SDK's base64 (berth/sdk/base64.hpp), on OpenSSL's codec.
#include "berth/sdk/base64.hpp"

#include <gtest/gtest.h>

namespace berth::sdk {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back) << s;
    EXPECT_EQ(*back, s);
  }
}

TEST(Base64, BothAlphabetsAndMissingPadding) {
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64_encode("\xfb\xff", Base64Alphabet::kUrl), "-_8=");
  EXPECT_EQ(base64_encode("\xfb\xff", Base64Alphabet::kUrl, Base64Padding::kNone), "-_8");
  EXPECT_EQ(base64_encode("f", Base64Alphabet::kStandard, Base64Padding::kNone), "Zg");
  EXPECT_EQ(base64_decode("-_8").value_or("?"), "\xfb\xff");
  EXPECT_EQ(base64_decode("+/8=").value_or("?"), "\xfb\xff");
  EXPECT_EQ(base64_decode("Zg").value_or("?"), "f");
  EXPECT_EQ(base64_decode("eyJuYW1lIjoiZmlsZS50eHQiLCJzaXplIjo5fQ==").value_or("?"),
            R"({"name":"file.txt","size":9})");
  std::string binary("\0\x01\x02\xff", 4);
  EXPECT_EQ(base64_decode(base64_encode(binary)).value_or("?"), binary);
}

TEST(Base64, RejectsWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("not base64!"));
  EXPECT_FALSE(base64_decode("Zg==Zg==")) << "data after the padding";
  EXPECT_FALSE(base64_decode("Z")) << "one character cannot hold a byte";
  EXPECT_FALSE(base64_decode("Z==="));
}

}  // namespace
}  // namespace berth::sdk
