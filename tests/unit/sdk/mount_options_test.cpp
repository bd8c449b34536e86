// The one mount-option table (berth/sdk/mount_options.hpp).
#include "berth/sdk/mount_options.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace berth::sdk {
namespace {

TEST(MountOptions, FlagsPropagationAndDataInOrder) {
  auto o = parse_mount_options("size=10m,uid=1000,noexec,nosuid,ro,rslave");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOEXEC | MS_NOSUID | MS_RDONLY));
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.data_string(), "size=10m,uid=1000");
  EXPECT_EQ(o.data, (std::vector<std::string>{"size=10m", "uid=1000"}));
}

TEST(MountOptions, LaterWordsWinAndClearingWordsClear) {
  EXPECT_EQ(parse_mount_options("ro,rw").flags, 0ul);
  EXPECT_EQ(parse_mount_options("nosuid,suid,nodev").flags, static_cast<unsigned long>(MS_NODEV));
  EXPECT_EQ(parse_mount_options("shared,rprivate").propagation,
            static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(parse_mount_options("defaults,,addr=1.2.3.4").data_string(), "addr=1.2.3.4");
  EXPECT_EQ(parse_mount_options("").flags, 0ul);
}

TEST(MountOptions, BindAndRecursiveBind) {
  auto bind = parse_mount_options(std::vector<std::string>{"bind", "ro"});
  EXPECT_TRUE(bind.bind());
  EXPECT_FALSE(bind.recursive_bind());
  auto rbind = parse_mount_options("rbind");
  EXPECT_TRUE(rbind.bind());
  EXPECT_TRUE(rbind.recursive_bind());
  EXPECT_EQ(rbind.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_FALSE(parse_mount_options("rprivate").recursive_bind()) << "MS_REC of propagation";
}

TEST(MountOptions, NosymfollowIsAFlagEverywhere) {
  // The tables used to disagree: the volume driver passed "nosymfollow" on as filesystem data.
  auto o = parse_mount_options("nosymfollow");
  EXPECT_EQ(o.flags, 256ul /* MS_NOSYMFOLLOW */);
  EXPECT_TRUE(o.data.empty());
  EXPECT_EQ(parse_mount_options("nosymfollow,symfollow").flags, 0ul);
}

}  // namespace
}  // namespace berth::sdk
