// IPv4 address management, pure (no I/O): CIDR parsing, choosing a free subnet from the
// address pools, choosing a free address in a subnet. The network manager persists the result.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::network {

struct Cidr {
  uint32_t address = 0;  // host order
  int prefix = 0;
  [[nodiscard]] uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  [[nodiscard]] uint32_t network() const { return address & mask(); }
  [[nodiscard]] uint32_t broadcast() const { return network() | ~mask(); }
  [[nodiscard]] bool contains(uint32_t ip) const { return (ip & mask()) == network(); }
  [[nodiscard]] bool overlaps(const Cidr& other) const;
  [[nodiscard]] std::string str() const;  // "172.18.0.0/16" (the network address)
};

Result<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t ip);
// "a.b.c.d/n"; the address part may have host bits set (kept in .address).
Result<Cidr> parse_cidr(std::string_view text);

// Docker's default pools: 172.17.0.0/16 .. 172.31.0.0/16, then 192.168.0.0/20 .. 192.168.240.0/20.
std::vector<Cidr> default_pools();
// daemon.json's {"base": "10.10.0.0/16", "size": 24}: the base cut into subnets of that size.
Result<std::vector<Cidr>> split_pool(std::string_view base, int size);
// The first pool that overlaps none of `in_use` (other networks' subnets, the host's routes).
Result<Cidr> pick_subnet(const std::vector<Cidr>& pools, const std::vector<Cidr>& in_use);

// The first free host address of `range` (default: the subnet) that is in `subnet`, is not its
// network or broadcast address, not the gateway and not in `used`.
Result<uint32_t> allocate_address(const Cidr& subnet, const std::optional<Cidr>& range,
                                  uint32_t gateway, const std::set<uint32_t>& used);

// Docker's MAC for an address: 02:42 followed by the IPv4 address.
std::string mac_for(uint32_t ip);

}  // namespace berth::core::network
