#include "core/volume/local_mount.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace berth::core::volume {
namespace {

TEST(LocalMount, OptionsSplitIntoFlagsPropagationAndData) {
  auto o = parse_mount_options("size=10m,uid=1000,noexec,nosuid,ro");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOEXEC | MS_NOSUID | MS_RDONLY));
  EXPECT_EQ(o.propagation, 0ul);
  EXPECT_EQ(o.data_string(), "size=10m,uid=1000");

  auto bind = parse_mount_options("bind,rprivate");
  EXPECT_EQ(bind.flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_EQ(bind.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_TRUE(bind.data.empty());

  // Later words win, as in dockerd's parser: "ro,rw" is read-write.
  EXPECT_EQ(parse_mount_options("ro,rw").flags, 0ul);
  EXPECT_EQ(parse_mount_options("rbind").flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(parse_mount_options("defaults,,addr=1.2.3.4").data_string(), "addr=1.2.3.4");
  EXPECT_EQ(parse_mount_options("").flags, 0ul);
}

TEST(LocalMount, MountPointDetection) {
  EXPECT_TRUE(is_mount_point("/"));
  EXPECT_TRUE(is_mount_point("/proc"));
  EXPECT_FALSE(is_mount_point("/nonexistent-berth-path"));
}

}  // namespace
}  // namespace berth::core::volume
