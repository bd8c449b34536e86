#include "core/common/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::json_text {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(JsonText, ValidTextIsUnchanged) {
  for (std::string s : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x90\xB3 whale",
                        "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_EQ(to_valid_utf8(s), s);
  }
}

TEST(JsonText, EachMaximalInvalidSubpartBecomesOneReplacement) {
  EXPECT_EQ(to_valid_utf8("a\xFF" "b"), "a" + kFffd + "b");
  EXPECT_EQ(to_valid_utf8("\xC3"), kFffd);                       // cut short at the end
  EXPECT_EQ(to_valid_utf8("\xE2\x82" "x"), kFffd + "x");          // truncated 3-byte sequence
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), kFffd + kFffd);            // overlong '/'
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a surrogate
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
  EXPECT_EQ(to_valid_utf8("\x80\x80"), kFffd + kFffd);            // stray continuation bytes
}

TEST(JsonText, SerializedOutputParsesAsJsonWithTheReplacement) {
  boost::json::object o{{"Path", std::string("/dir/na\xFFme\xE2\x82")}, {"Kind", 1}};
  std::string text = json_text::serialize(o);  // qualified: ADL would pick Boost's
  boost::json::error_code ec;
  auto back = boost::json::parse(text, ec);  // Boost.JSON refuses invalid UTF-8 like Go does
  ASSERT_FALSE(ec) << text;
  EXPECT_EQ(back.at("Path").as_string(), "/dir/na" + kFffd + "me" + kFffd);
}

TEST(JsonText, AnInvalidByteBeforeAQuoteNeverSwallowsTheQuote) {
  boost::json::object o{{"m", std::string("x\xE2\"y")}};
  auto back = boost::json::parse(json_text::serialize(o));
  EXPECT_EQ(back.at("m").as_string(), "x" + kFffd + "\"y");
}

TEST(JsonText, LongNamesAreShortenedInTheMiddleAndSayHowMuch) {
  std::string name(70000, 'n');
  std::string s = shorten_for_message(name, 256);
  EXPECT_LT(s.size(), 320u);
  EXPECT_NE(s.find("(69744 bytes left out)"), std::string::npos) << s;
  EXPECT_EQ(shorten_for_message("short"), "short");
  // Never cut inside a character.
  std::string euros;
  for (int i = 0; i < 200; ++i) euros += "\xE2\x82\xAC";
  EXPECT_EQ(to_valid_utf8(shorten_for_message(euros, 100)), shorten_for_message(euros, 100));
}

}  // namespace
}  // namespace berth::json_text
