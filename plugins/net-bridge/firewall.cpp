#include "firewall.hpp"

#include <nftables/libnftables.h>

#include <algorithm>
#include <memory>

namespace berth::plugins::bridge {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::string render_removal(bool bridge_table) {
  // "add" first so that the delete never fails on a missing table.
  std::string t;
  if (bridge_table) t += std::string("add table bridge ") + kTableName + "\ndelete table bridge " + kTableName + "\n";
  return t + "add table ip " + kTableName + "\ndelete table ip " + kTableName + "\n";
}

bool needs_bridge_table(const std::vector<FirewallNetwork>& networks) {
  return std::any_of(networks.begin(), networks.end(), [](const FirewallNetwork& n) { return !n.icc; });
}

std::string render_ruleset(const std::vector<FirewallNetwork>& networks, bool clear_bridge_table) {
  bool bridge_table = needs_bridge_table(networks);
  std::string t = render_removal(bridge_table || clear_bridge_table);
  t += std::string("table ip ") + kTableName + " {\n";
  // Published ports: DNAT for traffic to a local address, from outside (prerouting) and from the
  // host itself (output; 127.0.0.1 works with route_localnet on the bridge), no proxy process.
  t += "  chain ports {\n";
  for (const auto& n : networks) {
    for (const auto& p : n.ports) {
      t += "    ";
      if (!p.host_ip.empty() && p.host_ip != "0.0.0.0") t += "ip daddr " + p.host_ip + " ";
      // Traffic from the container's own bridge to its own port stays as it is (hairpin is
      // handled by the masquerade below).
      t += p.protocol + " dport " + std::to_string(p.host_port) + " dnat to " + p.container_ip + ":" +
           std::to_string(p.container_port) + "\n";
    }
  }
  t += "  }\n";
  t += "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
       "    fib daddr type local jump ports\n  }\n";
  // nft 1.0.6 accepts the name "dstnat" on prerouting only; -100 is its value.
  t += "  chain output {\n    type nat hook output priority -100; policy accept;\n"
       "    fib daddr type local jump ports\n  }\n";
  t += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  for (const auto& n : networks) {
    // Connections DNATed from the host's loopback need a source the container can answer.
    if (!n.ports.empty()) t += "    ip saddr 127.0.0.0/8 oifname " + quoted(n.bridge) + " masquerade\n";
    // Hairpin: a container reaching a published port of its own bridge.
    if (!n.ports.empty()) {
      t += "    ip saddr " + n.subnet + " oifname " + quoted(n.bridge) + " ct status dnat masquerade\n";
    }
    if (!n.internal && n.masquerade) {
      t += "    ip saddr " + n.subnet + " oifname != " + quoted(n.bridge) + " masquerade\n";
    }
  }
  t += "  }\n";
  // Forwarding: only the engine's own bridges are named; the policy stays accept so the table
  // never decides for traffic that is not the engine's.
  t += "  chain forward {\n    type filter hook forward priority filter; policy accept;\n";
  for (const auto& n : networks) {
    std::string b = quoted(n.bridge);
    if (n.internal) {
      t += "    iifname " + b + " oifname != " + b + " drop\n";
      t += "    oifname " + b + " iifname != " + b + " drop\n";
    }
    if (!n.icc) t += "    iifname " + b + " oifname " + b + " drop\n";
    std::string others;
    for (const auto& o : networks) {
      if (o.bridge != n.bridge) others += (others.empty() ? "" : ", ") + quoted(o.bridge);
    }
    if (!others.empty()) t += "    iifname " + b + " oifname { " + others + " } drop\n";
  }
  t += "  }\n}\n";
  if (bridge_table) {
    t += std::string("table bridge ") + kTableName + " {\n";
    t += "  chain forward {\n    type filter hook forward priority filter; policy accept;\n";
    for (const auto& n : networks) {
      if (n.icc || n.ports_ifnames.size() < 2) continue;
      std::string set;
      for (const auto& p : n.ports_ifnames) set += (set.empty() ? "" : ", ") + quoted(p);
      t += "    iifname { " + set + " } oifname { " + set + " } drop\n";
    }
    t += "  }\n}\n";
  }
  return t;
}

sdk::Status run_nft(const std::string& script) {
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx(nft_ctx_new(NFT_CTX_DEFAULT), nft_ctx_free);
  if (!ctx) return sdk::make_error(sdk::ErrorCode::kInternal, "nft_ctx_new failed");
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
    std::string err = nft_ctx_get_error_buffer(ctx.get());
    return sdk::make_error(sdk::ErrorCode::kInternal,
                           "nftables refused the engine's table \"" + std::string(kTableName) + "\": " + err);
  }
  return {};
}

}  // namespace berth::plugins::bridge
