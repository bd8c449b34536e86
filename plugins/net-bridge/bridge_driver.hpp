// The bridge network driver (driver id "network.bridge"): a Linux bridge per network, a veth
// pair per endpoint (eth0 inside), masquerade, isolation and published ports in the engine's
// nftables table. Its state (networks, endpoints, ports) is kept in its state dir so that a
// restarted berthd renders the same table (reconcile) and can leave live-restored endpoints.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "berth/sdk/network_driver.hpp"
#include "firewall.hpp"

namespace berth::plugins::bridge {

struct BridgeNetwork {
  std::string bridge;
  std::string subnet;   // "172.18.0.0/16"
  std::string gateway;  // "172.18.0.1"
  int mtu = 1500;
  bool internal = false;
  bool masquerade = true;
  bool icc = true;
};

struct BridgeEndpoint {
  std::string network_id;
  std::string address;  // "172.18.0.2/16"
  std::string mac;
  std::vector<sdk::PortMapping> ports;
};

class BridgeDriver final : public sdk::NetworkDriver {
 public:
  static sdk::Result<std::unique_ptr<BridgeDriver>> create(const sdk::InitContext& ctx);

  sdk::DriverInfo info() override;
  sdk::Status create_network(sdk::Context& ctx, const sdk::NetworkSpec& spec) override;
  sdk::Status delete_network(sdk::Context& ctx, std::string_view network_id) override;
  sdk::Result<sdk::EndpointResult> create_endpoint(sdk::Context& ctx, const sdk::EndpointSpec& spec) override;
  sdk::Status delete_endpoint(sdk::Context& ctx, std::string_view nid, std::string_view eid) override;
  sdk::Result<sdk::JoinResult> join(sdk::Context& ctx, const sdk::JoinSpec& spec) override;
  sdk::Status leave(sdk::Context& ctx, std::string_view nid, std::string_view eid) override;
  sdk::Status program_external_connectivity(sdk::Context& ctx, std::string_view nid, std::string_view eid,
                                            const std::vector<sdk::PortMapping>& ports) override;
  sdk::Status revoke_external_connectivity(sdk::Context& ctx, std::string_view nid,
                                           std::string_view eid) override;

  BridgeDriver(std::string state_file, sdk::Logger* log) : state_file_(std::move(state_file)), log_(log) {}

 private:
  // The host end of an endpoint's veth: derived from its id, so a restarted driver finds it.
  static std::string host_veth(std::string_view endpoint_id) {
    return "vb" + std::string(endpoint_id.substr(0, 11));
  }
  sdk::Status save_locked();
  sdk::Status apply_firewall_locked();

  std::string state_file_;
  sdk::Logger* log_;
  std::mutex mu_;
  std::map<std::string, BridgeNetwork, std::less<>> networks_;
  std::map<std::string, BridgeEndpoint, std::less<>> endpoints_;
  bool forwarding_checked_ = false;
  bool bridge_table_ = false;  // the engine's "table bridge berth" may exist (icc=false)
};

}  // namespace berth::plugins::bridge
