#include "core/network/ports.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace berth::core::network;
namespace json = boost::json;

TEST(Ports, BindingsAndPublishAll) {
  auto hc = json::parse(R"({"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                             "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
                            "PublishAllPorts": true})").as_object();
  auto cfg = json::parse(R"({"ExposedPorts": {"80/tcp": {}, "443/tcp": {}}})").as_object();
  auto p = requested_ports(hc, cfg);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0].container_port, 53);
  EXPECT_EQ((*p)[0].protocol, "udp");
  EXPECT_EQ((*p)[0].host_ip, "127.0.0.1");
  EXPECT_EQ((*p)[1].host_port, 8080);
  EXPECT_EQ((*p)[2].container_port, 443);
  EXPECT_EQ((*p)[2].host_port, 0);
  EXPECT_FALSE(requested_ports(json::parse(R"({"PortBindings": {"x/tcp": []}})").as_object(), {}));
  EXPECT_FALSE(requested_ports(json::parse(R"({"PortBindings": {"80/tcp": [{"HostPort": "99999"}]}})").as_object(), {}));
}

TEST(Ports, EphemeralPortsAvoidTakenAndBusyOnes) {
  std::vector<berth::sdk::PortMapping> ports{{"tcp", "", 0, 80}, {"tcp", "", 0, 81}, {"tcp", "", 9000, 82}};
  std::set<std::string> taken{port_key("tcp", 32768)};
  auto busy = [](const std::string&, uint16_t port) { return port != 32769; };
  ASSERT_TRUE(assign_host_ports(ports, taken, busy));
  EXPECT_EQ(ports[0].host_port, 32770);
  EXPECT_EQ(ports[1].host_port, 32771);
  EXPECT_EQ(ports[2].host_port, 9000);
  std::vector<berth::sdk::PortMapping> clash{{"tcp", "", 9000, 80}};
  auto s = assign_host_ports(clash, {port_key("tcp", 9000)}, busy);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "Bind for 0.0.0.0:9000 failed: port is already allocated");
}

TEST(Ports, InspectShape) {
  auto cfg = json::parse(R"({"ExposedPorts": {"80/tcp": {}, "81/tcp": {}}})").as_object();
  auto o = ports_json({{"tcp", "", 8080, 80}}, cfg);
  EXPECT_EQ(json::serialize(o), R"({"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"81/tcp":null})");
}
