// resolve_user: Docker's `--user` rules against a container's passwd and group files, as
// libcontainer's GetExecUser and dockerd's getUser apply them.
#include "core/container/user_lookup.hpp"

#include <gtest/gtest.h>

#include <vector>

using berth::core::container::resolve_user;

namespace {

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "web:x:1001:1001::/srv:/bin/sh\n";
const char* kGroup =
    "root:x:0:\n"
    "app:x:1000:\n"
    "web:x:1001:\n"
    "audio:x:29:app,web\n"
    "video:x:44:app\n";

using Gids = std::vector<gid_t>;

TEST(ResolveUser, NamedUserGetsPrimaryAndMemberGroups) {
  auto u = resolve_user("app", kPasswd, kGroup);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->additional_gids, (Gids{1000, 29, 44})) << "primary first, as dockerd does";
}

TEST(ResolveUser, ExplicitGroupDropsMembershipsButKeepsItselfSupplementary) {
  auto u = resolve_user("1000:1000", kPasswd, kGroup);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->additional_gids, (Gids{1000})) << "`id` shows groups=1000(app) under dockerd";
  auto named = resolve_user("web:audio", kPasswd, kGroup);
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_EQ(named->gid, 29u);
  EXPECT_EQ(named->additional_gids, (Gids{29}));
}

TEST(ResolveUser, UnknownNumericUserRunsWithGroupZero) {
  auto u = resolve_user("4242", kPasswd, kGroup);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 4242u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "");
  EXPECT_EQ(u->additional_gids, (Gids{0}));
}

TEST(ResolveUser, GroupAddIsAppendedOnceAndThePrimaryNotRepeated) {
  auto u = resolve_user("app", kPasswd, kGroup, {"video", "1000", "7"});
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->additional_gids, (Gids{1000, 29, 44, 7}));
}

TEST(ResolveUser, UnknownNamesAreRefusedWithDockersWords) {
  auto u = resolve_user("nobody", kPasswd, kGroup);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "unable to find user nobody: no matching entries in passwd file");
  auto g = resolve_user("app:nogroup", kPasswd, kGroup);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().message, "unable to find group nogroup: no matching entries in group file");
}

}  // namespace
