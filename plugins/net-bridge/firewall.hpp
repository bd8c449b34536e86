// The bridge driver's rules: all of them in one nftables table of the engine's own ("ip berth"),
// rendered whole from the driver's state and replaced in one atomic transaction (add, delete and
// re-add the table in one batch). Nothing else on the host is touched: no other table, chain,
// policy or rule. Replacing the whole table makes reconciliation after a crash exact: no
// duplicate, no orphan.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::plugins::bridge {

namespace sdk = berth::sdk;

inline constexpr const char* kTableName = "berth";

struct FirewallPort {
  std::string protocol;   // tcp | udp
  std::string host_ip;    // "" = every local address
  uint16_t host_port = 0;
  std::string container_ip;
  uint16_t container_port = 0;
};

struct FirewallNetwork {
  std::string bridge;
  std::string subnet;
  bool internal = false;
  bool masquerade = true;
  bool icc = true;
  std::vector<FirewallPort> ports;
  // The host ends of the network's veths (bridge ports): icc=false drops frames between them.
  std::vector<std::string> ports_ifnames;
};

// Whether the networks need the engine's bridge-family table: frames between two ports of one
// Linux bridge never reach the ip family's hooks (that would take br_netfilter, a host-wide
// module and sysctl), so icc=false is a rule in "table bridge berth" on the ports themselves.
bool needs_bridge_table(const std::vector<FirewallNetwork>& networks);

// The nft script that replaces the table(s) with these networks' rules (pure: unit-tested).
// `clear_bridge_table`: also remove a bridge-family table an earlier ruleset had.
std::string render_ruleset(const std::vector<FirewallNetwork>& networks, bool clear_bridge_table = false);
// The script that removes the table (nothing when it does not exist), and the bridge-family one
// when `bridge_table`.
std::string render_removal(bool bridge_table = false);

// Runs a script through libnftables in one transaction; the error carries nft's message.
sdk::Status run_nft(const std::string& script);

}  // namespace berth::plugins::bridge
