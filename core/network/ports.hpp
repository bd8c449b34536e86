// Published ports: what HostConfig.PortBindings and -P (PublishAllPorts with the image's
// ExposedPorts) ask for, and the choice of ephemeral host ports. Pure but for `is_free`.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "berth/sdk/network_driver.hpp"
#include "core/common/result.hpp"

namespace berth::core::network {

// host_port 0: ephemeral. Sorted by container port, then protocol.
Result<std::vector<sdk::PortMapping>> requested_ports(const boost::json::object& host_config,
                                                      const boost::json::object& config);

// Replaces every host_port 0 with a port from Linux's ephemeral range (32768-60999) that is not
// in `taken` and that `is_free(protocol, port)` accepts; fixed ports are checked against `taken`
// ("port is already allocated", as docker says).
Status assign_host_ports(std::vector<sdk::PortMapping>& ports, const std::set<std::string>& taken,
                         const std::function<bool(const std::string&, uint16_t)>& is_free);

// "tcp/8080" keys for `taken`.
std::string port_key(const std::string& protocol, uint16_t port);

// Docker's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "81/tcp": null}.
boost::json::object ports_json(const std::vector<sdk::PortMapping>& published, const boost::json::object& config);

}  // namespace berth::core::network
