// A network as berthd keeps it: Docker's fields, the driver that owns it and its address
// allocations (one endpoint per container), persisted as <data-root>/network/<id>.json on every
// change so allocations survive restarts.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "berth/sdk/network_driver.hpp"
#include "core/common/result.hpp"

namespace berth::core::network {

struct Endpoint {
  std::string id;            // 64 hex
  std::string container_id;
  std::string container_name;  // without "/"
  std::string ip;            // "172.18.0.2"
  std::string mac;
  std::vector<std::string> aliases;
  std::vector<sdk::PortMapping> ports;  // published while the container runs (host ports chosen)
};

struct Network {
  std::string id;
  std::string name;
  std::string driver;  // "bridge", "acme", ...
  int64_t created = 0;  // unix ns
  bool internal = false;
  bool attachable = false;
  std::string subnet;    // "172.18.0.0/16" (empty: the driver has no IPAM)
  std::string gateway;   // "172.18.0.1"
  std::string ip_range;  // optional
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;  // driver options
  std::map<std::string, Endpoint> endpoints;   // by container id
  bool builtin = false;  // host, none: never persisted, never removed
};

boost::json::object to_json(const Network& n);
Result<Network> network_from_json(const boost::json::object& o);

// Docker's GET /networks/{id} shape. `running`: container id -> true when its endpoint is joined.
boost::json::object inspect_json(const Network& n, const std::map<std::string, bool>& running);

}  // namespace berth::core::network
