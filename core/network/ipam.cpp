#include "core/network/ipam.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace berth::core::network {

bool Cidr::overlaps(const Cidr& other) const {
  int p = std::min(prefix, other.prefix);
  uint32_t m = p == 0 ? 0 : ~uint32_t{0} << (32 - p);
  return (address & m) == (other.address & m);
}

std::string Cidr::str() const { return format_ipv4(network()) + "/" + std::to_string(prefix); }

Result<uint32_t> parse_ipv4(std::string_view text) {
  in_addr a{};
  std::string s(text);
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return make_error(ErrorCode::kInvalidArgument, "invalid IPv4 address \"" + s + "\"");
  }
  return ntohl(a.s_addr);
}

std::string format_ipv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

Result<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid CIDR address \"" + std::string(text) + "\": expected a.b.c.d/n");
  }
  auto ip = parse_ipv4(text.substr(0, slash));
  if (!ip) return ip.error();
  int prefix = -1;
  auto digits = text.substr(slash + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > 32) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid CIDR address \"" + std::string(text) + "\": bad prefix length");
  }
  return Cidr{*ip, prefix};
}

std::vector<Cidr> default_pools() {
  std::vector<Cidr> pools;
  for (uint32_t b = 17; b <= 31; ++b) pools.push_back({(172u << 24) | (b << 16), 16});
  for (uint32_t c = 0; c <= 240; c += 16) pools.push_back({(192u << 24) | (168u << 16) | (c << 8), 20});
  return pools;
}

Result<std::vector<Cidr>> split_pool(std::string_view base, int size) {
  auto b = parse_cidr(base);
  if (!b) return b.error();
  if (size < b->prefix || size > 30) {
    return make_error(ErrorCode::kInvalidArgument, "address pool " + std::string(base) + ": size " +
                                                       std::to_string(size) + " must be between its prefix and 30");
  }
  std::vector<Cidr> out;
  uint64_t step = uint64_t{1} << (32 - size);
  uint64_t count = uint64_t{1} << (size - b->prefix);
  for (uint64_t i = 0; i < count && i < 65536; ++i) {
    out.push_back({static_cast<uint32_t>(b->network() + i * step), size});
  }
  return out;
}

Result<Cidr> pick_subnet(const std::vector<Cidr>& pools, const std::vector<Cidr>& in_use) {
  for (const auto& pool : pools) {
    bool free = true;
    for (const auto& u : in_use) free = free && !pool.overlaps(u);
    if (free) return pool;
  }
  return make_error(ErrorCode::kUnavailable,
                    "could not find an available, non-overlapping IPv4 address pool among the "
                    "defaults to assign to the network; give --subnet or set default-address-pools");
}

Result<uint32_t> allocate_address(const Cidr& subnet, const std::optional<Cidr>& range,
                                  uint32_t gateway, const std::set<uint32_t>& used) {
  const Cidr& r = range ? *range : subnet;
  // A --ip-range's own network address is skipped too, as docker's IPAM does.
  uint32_t first = std::max(r.network() + (range ? 1 : 0), subnet.network() + 1);
  uint32_t last = std::min(r.broadcast(), subnet.broadcast() - 1);
  if (subnet.prefix >= 31) {  // point-to-point: both addresses usable
    first = subnet.network();
    last = subnet.broadcast();
  }
  for (uint64_t ip = first; ip <= last; ++ip) {
    auto a = static_cast<uint32_t>(ip);
    if (a != gateway && !used.contains(a)) return a;
  }
  return make_error(ErrorCode::kUnavailable, "no available IPv4 addresses on this network's address "
                                             "pools: " + r.str() + " is full; remove containers or "
                                             "use a larger --subnet/--ip-range");
}

std::string mac_for(uint32_t ip) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 255,
                (ip >> 8) & 255, ip & 255);
  return buf;
}

}  // namespace berth::core::network
