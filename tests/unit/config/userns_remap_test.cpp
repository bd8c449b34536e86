#include "core/config/userns_remap.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/layer/id_shift.hpp"

namespace {

using berth::core::config::resolve_userns_remap;

class UsernsRemapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-subid-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(UsernsRemapTest, TakesTheFirstRangeOfTheUserAndItsGroup) {
  auto uid = write("subuid", "other:100000:65536\nremap:200000:65536\nremap:900000:10\n");
  auto gid = write("subgid", "grp:300000:1000\nremap:400000:65536\n");
  auto r = resolve_userns_remap("remap", uid, gid);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->uids.host, 200000u);
  EXPECT_EQ(r->uids.size, 65536u);
  EXPECT_EQ(r->gids.host, 400000u);
  auto g = resolve_userns_remap("remap:grp", uid, gid);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->group, "grp");
  EXPECT_EQ(g->gids.host, 300000u);
  EXPECT_EQ(g->gids.size, 1000u);
}

TEST_F(UsernsRemapTest, ErrorsSayWhatToAdd) {
  auto uid = write("subuid", "remap:200000:65536\nbad:x:1\n");
  auto gid = write("subgid", "");
  auto missing = resolve_userns_remap("nobody-here", uid, gid);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("user \"nobody-here\" has no range in " + uid),
            std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("usermod --add-subuids"), std::string::npos);
  auto no_group = resolve_userns_remap("remap", uid, gid);
  ASSERT_FALSE(no_group);
  EXPECT_NE(no_group.error().message.find("group \"remap\" has no range"), std::string::npos);
  EXPECT_FALSE(resolve_userns_remap("bad", uid, gid));
  EXPECT_FALSE(resolve_userns_remap("default", uid, gid));
  EXPECT_FALSE(resolve_userns_remap(":grp", uid, gid));
}

TEST(IdShift, MapsTheRangeAndLeavesOtherIds) {
  berth::core::layer::IdRangeShift s{400000, 65536};
  EXPECT_EQ(s.to_container(400000), 0u);
  EXPECT_EQ(s.to_container(401000), 1000u);
  EXPECT_EQ(s.to_container(0), 0u);            // an image file, owned by the host's root
  EXPECT_EQ(s.to_container(465536), 465536u);  // outside the range
  EXPECT_EQ(s.to_host(0), 400000u);
  EXPECT_EQ(s.to_host(65535), 465535u);
  EXPECT_EQ(s.to_host(70000), 70000u);
  berth::core::layer::IdRangeShift none;
  EXPECT_EQ(none.to_container(400000), 400000u);
  EXPECT_EQ(none.to_host(5), 5u);
}

}  // namespace
