#include <gtest/gtest.h>

#include "cli/app/errors.hpp"
#include "cli/app/flags.hpp"
#include "cli/term/terminal.hpp"

namespace berth::cli {
namespace {

struct RunFlags {
  bool i = false, t = false, d = false, rm = false, sig = true;
  std::vector<std::string> env;
  std::string name;
  FlagSet fs;
  RunFlags() {
    fs.add_bool("interactive", 'i', &i, "");
    fs.add_bool("tty", 't', &t, "");
    fs.add_bool("detach", 'd', &d, "");
    fs.add_bool("rm", 0, &rm, "");
    fs.add_bool("sig-proxy", 0, &sig, "");
    fs.add_list("env", 'e', &env, "");
    fs.add_string("name", 0, &name, "");
  }
};

TEST(Flags, CombinedShorthandsAndRepeats) {
  RunFlags f;
  auto pos = f.fs.parse({"-it", "-e", "A=1", "-eB=2", "-e=C=3", "--name=x", "--rm", "img",
                         "sh", "-c", "echo -e hi"},
                        false);
  EXPECT_TRUE(f.i);
  EXPECT_TRUE(f.t);
  EXPECT_TRUE(f.rm);
  EXPECT_EQ(f.env, (std::vector<std::string>{"A=1", "B=2", "C=3"}));
  EXPECT_EQ(f.name, "x");
  EXPECT_EQ(pos, (std::vector<std::string>{"img", "sh", "-c", "echo -e hi"}));
}

TEST(Flags, InterspersedAndBoolValues) {
  RunFlags f;
  auto pos = f.fs.parse({"a", "--sig-proxy=false", "b", "--", "-d"}, true);
  EXPECT_FALSE(f.sig);
  EXPECT_FALSE(f.d);
  EXPECT_EQ(pos, (std::vector<std::string>{"a", "b", "-d"}));
  EXPECT_TRUE(f.fs.changed("sig-proxy"));
}

TEST(Flags, Errors) {
  RunFlags f;
  EXPECT_THROW(f.fs.parse({"--nope"}, true), UsageError);
  EXPECT_THROW(f.fs.parse({"-x"}, true), UsageError);
  EXPECT_THROW(f.fs.parse({"--name"}, true), UsageError);
}

TEST(DetachKeys, ParseAndDetect) {
  auto keys = parse_detach_keys("ctrl-p,ctrl-q");
  EXPECT_EQ(keys, (std::vector<unsigned char>{16, 17}));
  EXPECT_EQ(parse_detach_keys("a,ctrl-@,ctrl-["), (std::vector<unsigned char>{'a', 0, 27}));
  EXPECT_THROW(parse_detach_keys("ctrl-"), StatusError);
  EscapeDetector esc(keys);
  std::string out;
  EXPECT_FALSE(esc.feed("ab\x10", 3, out));
  EXPECT_EQ(out, "ab");  // partial match held back
  EXPECT_FALSE(esc.feed("x", 1, out));
  EXPECT_EQ(out, "ab\x10x");  // broken match forwarded
  out.clear();
  EXPECT_TRUE(esc.feed("\x10\x11", 2, out));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace berth::cli
