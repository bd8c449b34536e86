// The typed config reader every plugin's parse_config uses (berth/sdk/config_reader.hpp), and
// those parsers themselves: no root, no driver instance.
#include "berth/sdk/config_reader.hpp"

#include <gtest/gtest.h>

#include "plugins/isolation-linux/plugin/config.hpp"
#include "plugins/storage-btrfs/config.hpp"
#include "plugins/storage-overlay/config.hpp"

namespace berth::sdk {
namespace {

std::string error_of(const Status& s) { return s ? std::string("(ok)") : s.error().message; }

TEST(ConfigReader, EmptyAndNullAreTheEmptyObject) {
  for (std::string_view text : {"", "  \n", "null", "{}"}) {
    auto r = ConfigReader::parse(text, {"a"});
    ASSERT_TRUE(r) << text;
    std::string a = "default";
    ASSERT_TRUE(r->read("a", a));
    EXPECT_EQ(a, "default") << "an absent key keeps the default";
    EXPECT_FALSE(r->has("a"));
  }
}

TEST(ConfigReader, RefusesNonObjectsBadJsonAndUnknownKeysNamingThem) {
  auto not_object = ConfigReader::parse("[1]", {"a"});
  ASSERT_FALSE(not_object);
  EXPECT_EQ(not_object.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(not_object.error().message.find("object"), std::string::npos);
  auto bad = ConfigReader::parse("{\"a\": ", {"a"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not valid JSON"), std::string::npos);
  auto unknown = ConfigReader::parse(R"({"a": 1, "colour": 2, "size": 3})", {"a", "b"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message,
            "unknown keys \"colour\", \"size\" (known keys: a, b)");
}

TEST(ConfigReader, TypedGettersNameTheKeyOnAWrongType) {
  auto r = ConfigReader::parse(
      R"({"s": "x", "b": true, "n": 42, "l": ["p", "q"], "bad": 3, "badl": ["p", 7], "nul": null})",
      {"s", "b", "n", "l", "bad", "badl", "nul"});
  ASSERT_TRUE(r) << r.error().message;
  std::string s;
  bool b = false;
  int64_t n = 0;
  std::vector<std::string> l;
  ASSERT_TRUE(r->read("s", s));
  ASSERT_TRUE(r->read("b", b));
  ASSERT_TRUE(r->read("n", n));
  ASSERT_TRUE(r->read("l", l));
  EXPECT_EQ(s, "x");
  EXPECT_TRUE(b);
  EXPECT_EQ(n, 42);
  EXPECT_EQ(l, (std::vector<std::string>{"p", "q"}));
  std::string nul = "kept";
  ASSERT_TRUE(r->read("nul", nul));
  EXPECT_EQ(nul, "kept") << "null is absent";
  EXPECT_EQ(error_of(r->read("bad", s)), "bad: must be a string");
  EXPECT_EQ(error_of(r->read("bad", b)), "bad: must be true or false");
  EXPECT_EQ(error_of(r->read("s", n)), "s: must be a whole number");
  EXPECT_EQ(error_of(r->read("bad", l)), "bad: must be an array of strings");
  EXPECT_EQ(error_of(r->read("badl", l)), "badl[1]: must be a string");
  EXPECT_EQ(l, (std::vector<std::string>{"p", "q"})) << "a failed read leaves the value alone";
}

TEST(ConfigReader, ChoicesListTheAllowedValues) {
  auto r = ConfigReader::parse(R"({"mode": "fast", "other": "slow"})", {"mode", "other"});
  ASSERT_TRUE(r);
  std::string mode = "auto";
  EXPECT_EQ(error_of(r->read_choice("mode", {"auto", "safe"}, mode)),
            "mode: \"fast\" is not one of \"auto\", \"safe\"");
  EXPECT_EQ(mode, "auto");
  ASSERT_TRUE(r->read_choice("other", {"fast", "slow"}, mode));
  EXPECT_EQ(mode, "slow");
}

// The plugins' parsers, each a few lines on the reader.
TEST(PluginConfigs, OverlayMountOptions) {
  auto ok = plugins::overlay::parse_config(R"({"mount_options": ["metacopy=on"]})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->mount_options, std::vector<std::string>{"metacopy=on"});
  EXPECT_NE(plugins::overlay::parse_config(R"({"mount_options": ["index=off", 3]})")
                .error().message.find("mount_options[1]"), std::string::npos);
  EXPECT_NE(plugins::overlay::parse_config(R"({"mount_options": ["upperdir=/x"]})")
                .error().message.find("set by the driver"), std::string::npos);
  EXPECT_NE(plugins::overlay::parse_config(R"({"mountoptions": []})")
                .error().message.find("\"mountoptions\""), std::string::npos);
}

TEST(PluginConfigs, BtrfsUsageSource) {
  auto ok = plugins::btrfs::parse_config(R"({"usage-source": "measured"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->usage_source, plugins::btrfs::UsageSource::kMeasured);
  EXPECT_EQ(plugins::btrfs::parse_config("")->usage_source, plugins::btrfs::UsageSource::kAuto);
  EXPECT_EQ(plugins::btrfs::parse_config(R"({"usage-source": "du"})").error().message,
            "usage-source: \"du\" is not one of \"auto\", \"qgroups\", \"measured\"");
}

TEST(PluginConfigs, IsolationLinuxPaths) {
  auto ok = plugins::isolation::parse_config(R"({"cgroup-parent": "/custom/", "init-path": "/x"})");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->cgroup_parent, "custom");
  EXPECT_EQ(ok->init_path, "/x");
  EXPECT_EQ(plugins::isolation::parse_config(R"({"monitor-path": 1})").error().message,
            "isolation.linux config: monitor-path: must be a string");
  EXPECT_NE(plugins::isolation::parse_config(R"({"cgroup-parent": "a/../b"})")
                .error().message.find("cgroup-parent"), std::string::npos);
}

}  // namespace
}  // namespace berth::sdk
