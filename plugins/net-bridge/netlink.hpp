// The links, addresses and routes of a bridge network, through libnl (rtnetlink; no `ip` or
// `brctl` child processes). Every call opens its own socket (cheap, and a socket is bound to the
// namespace it was made in); calls for a container's namespace run on a short-lived thread that
// setns()es into it, so berthd's own threads never move.
#pragma once

#include <string>

#include "berth/sdk/result.hpp"

namespace berth::plugins::bridge {

namespace sdk = berth::sdk;

// Creates the bridge `name` (kept when it exists), sets its MTU and address ("172.18.0.1/16",
// kept when present) and brings it up.
sdk::Status ensure_bridge(const std::string& name, int mtu, const std::string& address_cidr);
// Deletes a link by name; a missing link is fine.
sdk::Status delete_link(const std::string& name);
bool link_exists(const std::string& name);

struct VethPlan {
  std::string host_name;    // on the bridge, in berthd's namespace ("vb1a2b3c4d5e6")
  std::string bridge;       // its master
  std::string netns_path;   // the container's namespace
  std::string inner_name;   // "eth0"
  std::string mac;          // "02:42:ac:12:00:02"
  std::string address_cidr;  // "172.18.0.2/16"
  std::string gateway;      // "" for no default route (internal network, or a route exists)
  int mtu = 1500;
};
// The pair, its host end enslaved to the bridge and up, its inner end configured and up inside
// the namespace with the default route through the gateway when the namespace has none yet.
sdk::Status create_veth(const VethPlan& plan);

// Writes "1" to a sysctl under /proc/sys (berthd's namespace) when it is not already 1; returns
// whether it changed.
sdk::Result<bool> enable_sysctl(const std::string& path);

}  // namespace berth::plugins::bridge
