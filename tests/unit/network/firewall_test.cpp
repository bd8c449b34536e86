#include "firewall.hpp"

#include <gtest/gtest.h>

using namespace berth::plugins::bridge;

TEST(Firewall, RendersOnlyTheEnginesTableInOneReplacement) {
  FirewallNetwork a{"br-a", "172.18.0.0/16", false, true, true, {{"tcp", "", 8080, "172.18.0.2", 80}}};
  FirewallNetwork b{"br-b", "172.19.0.0/16", true, true, false, {}};
  std::string s = render_ruleset({a, b});
  // Replaced whole: add (so delete never fails), delete, define.
  EXPECT_EQ(s.rfind("add table ip berth\ndelete table ip berth\ntable ip berth {", 0), 0u);
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
}
