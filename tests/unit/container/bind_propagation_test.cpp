#include "core/container/bind_propagation.hpp"

#include <gtest/gtest.h>

#include "core/container/container.hpp"

using namespace berth::core::container;

namespace {

// Root shared, /data private, /data/inner a slave, /srv\040x (a space) shared, /data mounted
// twice (the second, shared, covers the first).
constexpr std::string_view kInfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "40 22 0:40 / /data rw - tmpfs tmpfs rw\n"
    "41 40 0:41 / /data/inner rw master:7 - tmpfs tmpfs rw\n"
    "42 22 0:42 / /srv\\040x rw shared:9 - tmpfs tmpfs rw\n"
    "43 22 0:43 / /private rw - tmpfs tmpfs rw\n"
    "44 22 0:44 / /private rw shared:12 - tmpfs tmpfs rw\n";

MountPoint bind(std::string source, std::string propagation) {
  MountPoint m;
  m.type = "bind";
  m.source = std::move(source);
  m.destination = "/mnt";
  m.propagation = std::move(propagation);
  return m;
}

TEST(SourceMount, LongestMountPointHoldsThePath) {
  auto m = source_mount(kInfo, "/data/inner/x");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/data/inner");
  EXPECT_TRUE(m->slave);
  EXPECT_FALSE(m->shared);
  auto d = source_mount(kInfo, "/database");  // a name prefix is not a path prefix
  ASSERT_TRUE(d);
  EXPECT_EQ(d->mount_point, "/");
  EXPECT_TRUE(d->shared);
  auto s = source_mount(kInfo, "/srv x/y");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->mount_point, "/srv x");
  auto p = source_mount(kInfo, "/private/a");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->shared) << "the later mount at the same place covers the earlier one";
}

TEST(BindPropagation, SharedNeedsASharedSourceAndSlaveASharedOrSlaveOne) {
  // Sources that do not exist here are checked as given (no symlinks to resolve).
  EXPECT_TRUE(check_bind_propagation({bind("/nonexistent-a/x", "rshared")}, kInfo));
  auto refused = check_bind_propagation({bind("/data/nonexistent", "rshared")}, kInfo);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "path /data/nonexistent is mounted on /data but it is not a shared mount");
  auto slave = check_bind_propagation({bind("/data/nonexistent", "rslave")}, kInfo);
  ASSERT_FALSE(slave);
  EXPECT_EQ(slave.error().message,
            "path /data/nonexistent is mounted on /data but it is not a shared or slave mount");
  EXPECT_TRUE(check_bind_propagation({bind("/data/inner/nonexistent", "slave")}, kInfo));
  EXPECT_FALSE(check_bind_propagation({bind("/data/inner/nonexistent", "shared")}, kInfo));
  // Private propagation asks nothing of the source.
  EXPECT_TRUE(check_bind_propagation({bind("/data/nonexistent", "rprivate"), bind("/data/n", "")}, kInfo));
}

}  // namespace
