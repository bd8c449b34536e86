#include "core/network/ipam.hpp"

#include <gtest/gtest.h>

using namespace berth::core::network;

TEST(Ipam, ParsesAndFormatsCidrs) {
  auto c = parse_cidr("172.18.3.4/16");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->str(), "172.18.0.0/16");
  EXPECT_EQ(format_ipv4(c->broadcast()), "172.18.255.255");
  EXPECT_FALSE(parse_cidr("172.18.0.0"));
  EXPECT_FALSE(parse_cidr("172.18.0.0/33"));
  EXPECT_FALSE(parse_cidr("300.1.1.1/8"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/8x"));
}

TEST(Ipam, PicksTheFirstPoolThatOverlapsNothing) {
  std::vector<Cidr> used{*parse_cidr("172.17.0.0/16"), *parse_cidr("172.18.5.0/24")};
  auto c = pick_subnet(default_pools(), used);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->str(), "172.19.0.0/16");
  // A host route covering all of 172.16/12 pushes the choice to 192.168.
  auto d = pick_subnet(default_pools(), {*parse_cidr("172.16.0.0/12")});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->str(), "192.168.0.0/20");
  std::vector<Cidr> everything{*parse_cidr("0.0.0.0/1"), *parse_cidr("128.0.0.0/1")};
  auto none = pick_subnet(default_pools(), everything);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("default-address-pools"), std::string::npos);
}

TEST(Ipam, SplitsDaemonPools) {
  auto pools = split_pool("10.10.0.0/16", 24);
  ASSERT_TRUE(pools);
  ASSERT_EQ(pools->size(), 256u);
  EXPECT_EQ((*pools)[1].str(), "10.10.1.0/24");
  EXPECT_FALSE(split_pool("10.10.0.0/16", 8));
}

TEST(Ipam, AllocatesSkippingGatewayUsedAndReserved) {
  auto subnet = *parse_cidr("10.1.0.0/29");  // .1-.6 usable
  uint32_t gw = *parse_ipv4("10.1.0.1");
  std::set<uint32_t> used{*parse_ipv4("10.1.0.2")};
  auto a = allocate_address(subnet, std::nullopt, gw, used);
  ASSERT_TRUE(a);
  EXPECT_EQ(format_ipv4(*a), "10.1.0.3");
  for (auto ip : {"10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"}) used.insert(*parse_ipv4(ip));
  auto full = allocate_address(subnet, std::nullopt, gw, used);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("is full"), std::string::npos);
  // --ip-range narrows the choice.
  auto big = *parse_cidr("10.2.0.0/16");
  auto r = allocate_address(big, *parse_cidr("10.2.5.0/24"), *parse_ipv4("10.2.0.1"), {});
  ASSERT_TRUE(r);
  EXPECT_EQ(format_ipv4(*r), "10.2.5.1");
}

TEST(Ipam, DockerMacs) { EXPECT_EQ(mac_for(*parse_ipv4("172.17.0.2")), "02:42:ac:11:00:02"); }
