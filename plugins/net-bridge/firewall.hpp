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
};

// The nft script that replaces the table with these networks' rules (pure: unit-tested).
std::string render_ruleset(const std::vector<FirewallNetwork>& networks);
// The script that removes the table (nothing when it does not exist).
std::string render_removal();

// Runs a script through libnftables in one transaction; the error carries nft's message.
sdk::Status run_nft(const std::string& script);

}  // namespace berth::plugins::bridge
