// The SDK's passwd/group reader, which both `exec --user` (core) and `run --user` (the
// isolation backend's monitor) resolve users with.
#include "berth/sdk/user_db.hpp"

#include <gtest/gtest.h>

namespace userdb = berth::sdk::userdb;

TEST(UserDb, ParsesPasswdEntriesWithTheirHome) {
  auto entries = userdb::parse_passwd(
      "root:x:0:0:root:/root:/bin/sh\n"
      "app:x:1000:1001:App User:/home/app:/bin/sh\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].name, "app");
  EXPECT_EQ(entries[1].uid, 1000u);
  EXPECT_EQ(entries[1].gid, 1001u);
  EXPECT_EQ(entries[1].home, "/home/app");
}

TEST(UserDb, PasswdSkipsCommentsBlanksShortLinesAndBadIds) {
  auto entries = userdb::parse_passwd(
      "# comment\n"
      "\n"
      "short:x:5\n"                      // three fields: no gid
      "neg:x:-1:0::/:/bin/sh\n"         // not a number
      "huge:x:4294967296:0::/:/bin/sh\n"  // beyond 32 bits
      "  tab:x:7:8  \r\n"               // four fields, trimmed, CRLF: kept without a home
      "last:x:9:9::/l:/bin/sh");        // no final newline
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "tab");
  EXPECT_EQ(entries[0].uid, 7u);
  EXPECT_EQ(entries[0].gid, 8u);
  EXPECT_EQ(entries[0].home, "");
  EXPECT_EQ(entries[1].name, "last");
  EXPECT_EQ(entries[1].home, "/l");
}

TEST(UserDb, ParsesGroupsWithTheirMembers) {
  auto groups = userdb::parse_group(
      "root:x:0:\n"
      "staff:x:50:app, bob,,\n"
      "nomembers:x:60\n"
      "bad:x:abc:app\n");
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_TRUE(groups[0].members.empty());
  EXPECT_EQ(groups[1].name, "staff");
  EXPECT_EQ(groups[1].gid, 50u);
  EXPECT_EQ(groups[1].members, (std::vector<std::string>{"app", "bob"}));
  EXPECT_EQ(groups[2].name, "nomembers");
  EXPECT_TRUE(groups[2].members.empty());
}

TEST(UserDb, EmptyTextHasNoEntries) {
  EXPECT_TRUE(userdb::parse_passwd("").empty());
  EXPECT_TRUE(userdb::parse_group("").empty());
}

TEST(UserDb, ParseIdTakesOnly32BitDecimals) {
  uint32_t n = 7;
  EXPECT_TRUE(userdb::parse_id("0", n));
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(userdb::parse_id("4294967295", n));
  EXPECT_EQ(n, 4294967295u);
  EXPECT_FALSE(userdb::parse_id("4294967296", n));
  EXPECT_FALSE(userdb::parse_id("", n));
  EXPECT_FALSE(userdb::parse_id("-1", n));
  EXPECT_FALSE(userdb::parse_id("1e3", n));
  EXPECT_FALSE(userdb::parse_id("12345678901", n));
}
