// --volumes-from: dockerd's syntax of an entry, and what the new container inherits.
#include "core/container/volumes_from.hpp"

#include <gtest/gtest.h>

namespace berth::core::container {
namespace {

MountPoint mount(std::string type, std::string destination, bool rw) {
  MountPoint m;
  m.type = std::move(type);
  m.destination = std::move(destination);
  m.source = "/src" + m.destination;
  m.name = m.type == "volume" ? "vol" + m.destination.substr(1) : "";
  m.rw = rw;
  return m;
}

TEST(VolumesFrom, ParsesContainerAndMode) {
  auto plain = parse_volumes_from("data");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->container, "data");
  EXPECT_FALSE(plain->read_only);
  EXPECT_TRUE(parse_volumes_from("data:ro")->read_only);
  EXPECT_FALSE(parse_volumes_from("data:rw")->read_only);
  EXPECT_TRUE(parse_volumes_from("data:ro,z")->read_only);
  EXPECT_EQ(parse_volumes_from("0123abcd:rw")->container, "0123abcd");
}

TEST(VolumesFrom, RefusesWithDockerdsWords) {
  EXPECT_EQ(parse_volumes_from("").error().message,
            "volumes-from specification cannot be an empty string");
  EXPECT_EQ(parse_volumes_from("data:rshared").error().message, "invalid mode: rshared");
  EXPECT_EQ(parse_volumes_from("data:nocopy").error().message, "invalid mode: nocopy");
  EXPECT_EQ(parse_volumes_from("data:ro,rw").error().message, "invalid mode: ro,rw");
  EXPECT_EQ(parse_volumes_from("data:x").error().code, ErrorCode::kInvalidArgument);
}

TEST(VolumesFrom, InheritsBindsAndVolumesKeepingReadOnlyAndForcingIt) {
  MountPoint tmpfs;
  tmpfs.type = "tmpfs";
  tmpfs.destination = "/run";
  std::vector<MountPoint> source = {mount("volume", "/data", true), mount("bind", "/conf", false),
                                    tmpfs};
  source[0].anonymous = true;
  auto same = inherit_mounts(source, false);
  ASSERT_EQ(same.size(), 2U);
  EXPECT_EQ(same[0].name, "vol" "data");
  EXPECT_EQ(same[0].source, "/src/data");
  EXPECT_TRUE(same[0].rw);
  EXPECT_FALSE(same[0].copy_image_data);
  EXPECT_TRUE(same[0].anonymous);  // still the source's anonymous volume: rm -v of either may go
  EXPECT_EQ(same[1].type, "bind");
  EXPECT_FALSE(same[1].rw);  // a read-only source stays read-only even with :rw
  auto ro = inherit_mounts(source, true);
  EXPECT_FALSE(ro[0].rw);
  EXPECT_FALSE(ro[1].rw);
}

}  // namespace
}  // namespace berth::core::container
