// Docker's variable substitution rules.
#include <gtest/gtest.h>

#include "core/build/shell_lex.hpp"

using namespace berth::core::build;

namespace {
std::string ex(std::string_view w, char esc = '\\') {
  Vars vars{{"A", "a"}, {"EMPTY", ""}, {"SP", "x y"}};
  auto r = expand_word(w, vars, esc);
  return r ? *r : "ERR:" + r.error().message;
}
}  // namespace

TEST(ShellLex, PlainAndBracedVariables) {
  EXPECT_EQ(ex("$A"), "a");
  EXPECT_EQ(ex("${A}b"), "ab");
  EXPECT_EQ(ex("$Ab"), "");  // the name is "Ab"
  EXPECT_EQ(ex("x$UNSET.y"), "x.y");
  EXPECT_EQ(ex("$"), "$");
  EXPECT_EQ(ex("$ a"), "$ a");
  EXPECT_EQ(ex("$1x"), "x");
}

TEST(ShellLex, Modifiers) {
  EXPECT_EQ(ex("${UNSET:-def}"), "def");
  EXPECT_EQ(ex("${EMPTY:-def}"), "def");
  EXPECT_EQ(ex("${EMPTY-def}"), "");
  EXPECT_EQ(ex("${UNSET-def}"), "def");
  EXPECT_EQ(ex("${A:-def}"), "a");
  EXPECT_EQ(ex("${A:+alt}"), "alt");
  EXPECT_EQ(ex("${EMPTY:+alt}"), "");
  EXPECT_EQ(ex("${EMPTY+alt}"), "alt");
  EXPECT_EQ(ex("${UNSET:+alt}"), "");
  EXPECT_EQ(ex("${UNSET:-${A}x}"), "ax");
  EXPECT_EQ(ex("${A:?must}"), "a");
  EXPECT_NE(ex("${UNSET:?must be set}").find("UNSET: must be set"), std::string::npos);
  EXPECT_EQ(ex("${A:=x}").substr(0, 4), "ERR:");
  EXPECT_EQ(ex("${A").substr(0, 4), "ERR:");
  EXPECT_EQ(ex("${}").substr(0, 4), "ERR:");
}

TEST(ShellLex, QuotesAndEscapes) {
  EXPECT_EQ(ex("'$A'"), "$A");
  EXPECT_EQ(ex("\"$A\""), "a");
  EXPECT_EQ(ex("\"x\\\"y\""), "x\"y");
  EXPECT_EQ(ex("\"\\$A\""), "$A");
  EXPECT_EQ(ex("\"a\\nb\""), "a\\nb");  // other escapes stay inside double quotes
  EXPECT_EQ(ex("a\\ b"), "a b");
  EXPECT_EQ(ex("\\$A"), "$A");
  EXPECT_EQ(ex("`$A", '`'), "$A");
  EXPECT_EQ(ex("c:\\dir", '`'), "c:\\dir");
  EXPECT_EQ(ex("'unterminated").substr(0, 4), "ERR:");
  EXPECT_EQ(ex("\"unterminated").substr(0, 4), "ERR:");
}

TEST(ShellLex, WordsAndKeyValues) {
  EXPECT_EQ(split_words("  a \"b c\"  'd e'\\ f  "), (std::vector<std::string>{"a", "\"b c\"", "'d e'\\ f"}));
  Vars vars{{"V", "1"}};
  auto kv = parse_key_values("A=$V B=\"two words\" C=${V}x", vars, '\\', true, "ENV");
  ASSERT_TRUE(kv) << kv.error().message;
  ASSERT_EQ(kv->size(), 3u);
  EXPECT_EQ((*kv)[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ((*kv)[1].second, "two words");
  EXPECT_EQ((*kv)[2].second, "1x");
  auto legacy = parse_key_values("KEY value with $V spaces", vars, '\\', true, "ENV");
  ASSERT_TRUE(legacy);
  EXPECT_EQ((*legacy)[0], (std::pair<std::string, std::string>{"KEY", "value with 1 spaces"}));
  EXPECT_FALSE(parse_key_values("KEY", vars, '\\', true, "ENV"));
  EXPECT_FALSE(parse_key_values("A=1 B", vars, '\\', true, "LABEL"));
  EXPECT_FALSE(parse_key_values("", vars, '\\', true, "ENV"));
}
