// .dockerignore pattern rules.
#include <gtest/gtest.h>

#include "core/build/dockerignore.hpp"

using namespace berth::core::build;

TEST(DockerIgnore, GlobRules) {
  EXPECT_TRUE(glob_match("*.txt", "a.txt"));
  EXPECT_FALSE(glob_match("*.txt", "dir/a.txt"));
  EXPECT_TRUE(glob_match("**/*.txt", "dir/sub/a.txt"));
  EXPECT_TRUE(glob_match("**/*.txt", "a.txt"));
  EXPECT_TRUE(glob_match("dir/**", "dir/a/b"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "a/c"));
  EXPECT_TRUE(glob_match("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match("[!a-c]x", "bx"));
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("[abc", "a"));
}

TEST(DockerIgnore, ExclusionsExceptionsAndParents) {
  IgnoreMatcher m("# comment\n\n/node_modules\n*.log\n!keep.log\nbuild/\n**/*.tmp\n");
  EXPECT_TRUE(m.excluded("node_modules"));
  EXPECT_TRUE(m.excluded("node_modules/x/y.js"));
  EXPECT_TRUE(m.excluded("debug.log"));
  EXPECT_FALSE(m.excluded("keep.log"));
  EXPECT_FALSE(m.excluded("src/debug.log"));  // * does not cross directories
  EXPECT_TRUE(m.excluded("build/out.o"));
  EXPECT_TRUE(m.excluded("deep/er/x.tmp"));
  EXPECT_FALSE(m.excluded("src/main.c"));
  EXPECT_TRUE(m.has_exceptions());
}

TEST(DockerIgnore, CleanRelative) {
  EXPECT_EQ(clean_relative("./a//b/../c/"), "a/c");
  EXPECT_EQ(clean_relative(""), ".");
  EXPECT_EQ(clean_relative("a/.."), ".");
}

// Found by fuzz_dockerfile: many stars against a long name that almost matches backtracked
// exponentially (a .dockerignore could hang the CLI and berthd). Each position pair is now tried
// once; this returns at once, and still gives the right answers.
TEST(DockerIgnore, ManyStarsDoNotBacktrackExponentially) {
  const std::string name(60, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name));
  EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", name));
  EXPECT_FALSE(glob_match("**a**a**a**a**a**a**a**a**a**a**a**a**b", name + "/" + name));
}
