// NetworkDriver: libnetwork's container network model. IPAM belongs to the host; the driver makes
// bridges, veths and rules. Calls come in the order create_network < create_endpoint < join <
// program_external_connectivity, and their inverses in reverse; every inverse is idempotent.
// When a container is gone the host unbinds and removes its namespace file (JoinSpec's
// netns_path) before leave, so the kernel has usually taken the interfaces in it down already;
// leave must still remove what something else kept alive (the suite allows a few seconds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/host.hpp"

namespace berth::sdk {

struct IpamRange {
  std::string subnet;   // "172.30.0.0/16"
  std::string gateway;  // "172.30.0.1"
};

struct NetworkSpec {
  std::string id;
  std::string name;
  std::string options_json = "{}";  // driver options (-o key=value), a JSON object of strings
  std::vector<IpamRange> ipv4;
  bool internal = false;
  bool restore = false;  // replayed after a daemon restart: adopt what exists
};

struct EndpointSpec {
  std::string network_id;
  std::string endpoint_id;
  std::string address;      // "172.30.0.2/16", chosen by the host's IPAM
  std::string mac_address;  // empty: the driver picks one
  std::string options_json = "{}";
};

struct EndpointResult {
  std::string address;
  std::string mac_address;
};

struct JoinSpec {
  std::string network_id;
  std::string endpoint_id;
  std::string netns_path;  // the container's network namespace
  std::string container_id;
  std::string ifname_hint;  // "eth0"
};

struct Route {
  std::string destination;  // CIDR
  std::string gateway;
};

struct JoinResult {
  std::string interface_name;
  std::string gateway;
  std::vector<Route> routes;
};

struct PortMapping {
  std::string protocol = "tcp";
  std::string host_ip;  // empty: all addresses
  uint16_t host_port = 0;
  uint16_t container_port = 0;
};

class NetworkDriver {
 public:
  virtual ~NetworkDriver() = default;

  virtual DriverInfo info() = 0;
  virtual Status create_network(Context& ctx, const NetworkSpec& spec) = 0;
  virtual Status delete_network(Context& ctx, std::string_view network_id) = 0;
  virtual Result<EndpointResult> create_endpoint(Context& ctx, const EndpointSpec& spec) = 0;
  virtual Status delete_endpoint(Context& ctx, std::string_view network_id,
                                 std::string_view endpoint_id) = 0;
  virtual Result<JoinResult> join(Context& ctx, const JoinSpec& spec) = 0;
  virtual Status leave(Context& ctx, std::string_view network_id,
                       std::string_view endpoint_id) = 0;
  virtual Status program_external_connectivity(Context& /*ctx*/, std::string_view /*nid*/,
                                               std::string_view /*eid*/,
                                               const std::vector<PortMapping>& /*ports*/) {
    return make_error(ErrorCode::kUnsupported, "port publishing is not supported by this driver");
  }
  virtual Status revoke_external_connectivity(Context& /*ctx*/, std::string_view /*nid*/,
                                              std::string_view /*eid*/) {
    return {};
  }
};

}  // namespace berth::sdk
