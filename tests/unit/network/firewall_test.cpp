#include "firewall.hpp"

#include <gtest/gtest.h>

using namespace berth::plugins::bridge;

TEST(Firewall, RendersOnlyTheEnginesTableInOneReplacement) {
  FirewallNetwork a{"br-a", "172.18.0.0/16", false, true, true, {{"tcp", "", 8080, "172.18.0.2", 80}}, {}};
  FirewallNetwork b{"br-b", "172.19.0.0/16", true, true, false, {}, {}};
  std::string s = render_ruleset({a, b});
  // Replaced whole: add (so delete never fails), delete, define.
  // (br-b has icc=false: the bridge-family table is replaced first, the same way.)
  EXPECT_EQ(s.rfind("add table bridge berth\ndelete table bridge berth\n"
                    "add table ip berth\ndelete table ip berth\ntable ip berth {", 0), 0u);
  EXPECT_NE(s.find("tcp dport 8080 dnat to 172.18.0.2:80"), std::string::npos);
  EXPECT_NE(s.find("ip saddr 172.18.0.0/16 oifname != \"br-a\" masquerade"), std::string::npos);
  EXPECT_EQ(s.find("ip saddr 172.19.0.0/16 oifname != \"br-b\" masquerade"), std::string::npos);  // internal
  EXPECT_NE(s.find("iifname \"br-b\" oifname != \"br-b\" drop"), std::string::npos);
  EXPECT_NE(s.find("iifname \"br-b\" oifname \"br-b\" drop"), std::string::npos);  // icc=false
  EXPECT_NE(s.find("iifname \"br-a\" oifname { \"br-b\" } drop"), std::string::npos);
  EXPECT_NE(s.find("ip saddr 127.0.0.0/8 oifname \"br-a\" masquerade"), std::string::npos);
  // Never anything outside the table, never a flush or a policy other than accept.
  EXPECT_EQ(s.find("flush"), std::string::npos);
  EXPECT_EQ(s.find("policy drop"), std::string::npos);
  EXPECT_EQ(s.find("table inet"), std::string::npos);
  // icc=false on a network of fewer than two ports: the bridge table exists, with no rule yet.
  EXPECT_NE(s.find("table bridge berth {"), std::string::npos);
}

TEST(Firewall, IccOffDropsFramesBetweenTheNetworksBridgePorts) {
  FirewallNetwork on{"br-a", "172.18.0.0/16", false, true, true, {}, {}};
  EXPECT_FALSE(needs_bridge_table({on}));
  // Only the ip table while every network allows icc: no bridge-family table is ever touched ...
  EXPECT_EQ(render_ruleset({on}).find("bridge"), std::string::npos);
  // ... unless an earlier ruleset made one, which goes.
  EXPECT_NE(render_ruleset({on}, true).find("delete table bridge berth"), std::string::npos);
  EXPECT_EQ(render_removal(false).find("bridge"), std::string::npos);
  EXPECT_NE(render_removal(true).find("delete table bridge berth"), std::string::npos);

  FirewallNetwork off{"berth0", "172.17.0.0/16", false, true, false, {}, {"vb1", "vb2", "vb3"}};
  ASSERT_TRUE(needs_bridge_table({on, off}));
  std::string s = render_ruleset({on, off});
  auto bridge = s.find("table bridge berth {");
  ASSERT_NE(bridge, std::string::npos);
  EXPECT_NE(s.find("iifname { \"vb1\", \"vb2\", \"vb3\" } oifname { \"vb1\", \"vb2\", \"vb3\" } drop", bridge),
            std::string::npos);
  EXPECT_EQ(s.find("policy drop"), std::string::npos);
}
