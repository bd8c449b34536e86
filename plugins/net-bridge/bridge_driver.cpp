#include "bridge_driver.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "berth/sdk/fs.hpp"
#include "netlink.hpp"

namespace json = boost::json;

namespace berth::plugins::bridge {
namespace {

std::string option(const json::object& o, std::string_view key, std::string fallback = "") {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : fallback;
}

std::string prefix_of(const std::string& subnet) {
  auto slash = subnet.find('/');
  return slash == std::string::npos ? "16" : subnet.substr(slash + 1);
}

std::string ip_of(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

json::object network_json(const BridgeNetwork& n) {
  return {{"bridge", n.bridge}, {"subnet", n.subnet},         {"gateway", n.gateway},
          {"mtu", n.mtu},       {"internal", n.internal},     {"masquerade", n.masquerade},
          {"icc", n.icc}};
}

}  // namespace

sdk::Result<std::unique_ptr<BridgeDriver>> BridgeDriver::create(const sdk::InitContext& ctx) {
  if (::geteuid() != 0) return sdk::make_error(sdk::ErrorCode::kUnsupported, "the bridge driver needs root");
  auto d = std::make_unique<BridgeDriver>(ctx.state_dir + "/state.json", ctx.log);
  std::error_code ec;
  std::filesystem::create_directories(ctx.state_dir, ec);
  // What the previous berthd left (volatile state dir: kept across restarts, gone at reboot).
  if (std::filesystem::exists(d->state_file_)) {
    std::ifstream in(d->state_file_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code jec;
    auto v = json::parse(text, jec);
    if (!jec && v.is_object()) {
      for (const auto& [id, n] : v.as_object()["networks"].as_object()) {
        const auto& o = n.as_object();
        d->networks_[std::string(id)] = BridgeNetwork{option(o, "bridge"), option(o, "subnet"), option(o, "gateway"),
                                                      static_cast<int>(o.at("mtu").to_number<int64_t>()),
                                                      o.at("internal").as_bool(), o.at("masquerade").as_bool(),
                                                      o.at("icc").as_bool()};
      }
      for (const auto& [id, e] : v.as_object()["endpoints"].as_object()) {
        const auto& o = e.as_object();
        BridgeEndpoint ep{option(o, "network"), option(o, "address"), option(o, "mac"), {}};
        for (const auto& p : o.at("ports").as_array()) {
          const auto& po = p.as_object();
          ep.ports.push_back({option(po, "protocol"), option(po, "host_ip"),
                              static_cast<uint16_t>(po.at("host_port").to_number<int64_t>()),
                              static_cast<uint16_t>(po.at("container_port").to_number<int64_t>())});
        }
        d->endpoints_[std::string(id)] = std::move(ep);
      }
    } else {
      ctx.log->warn("bridge driver: ignoring an unreadable state file", {{"path", d->state_file_}});
    }
  }
  // Reconcile: the table is rendered from the state, replacing whatever a crash left. With no
  // state there is nothing of ours to reconcile (the state dir and the table both go at reboot),
  // and a berthd that never makes a bridge network never touches nftables.
  std::lock_guard lock(d->mu_);
  for (const auto& [_, n] : d->networks_) d->bridge_table_ = d->bridge_table_ || !n.icc;
  if (!d->networks_.empty()) {
    if (auto s = d->apply_firewall_locked(); !s) return s.error();
  }
  return d;
}

sdk::DriverInfo BridgeDriver::info() {
  return {"bridge", {"nftables", "libnl"}, {{"Table", std::string("ip ") + kTableName}}};
}

sdk::Status BridgeDriver::save_locked() {
  json::object nets, eps;
  for (const auto& [id, n] : networks_) nets[id] = network_json(n);
  for (const auto& [id, e] : endpoints_) {
    json::array ports;
    for (const auto& p : e.ports) {
      ports.push_back(json::object{{"protocol", p.protocol}, {"host_ip", p.host_ip},
                                   {"host_port", p.host_port}, {"container_port", p.container_port}});
    }
    eps[id] = json::object{{"network", e.network_id}, {"address", e.address}, {"mac", e.mac}, {"ports", ports}};
  }
  return sdk::fs::atomic_write(state_file_, json::serialize(json::object{{"networks", nets}, {"endpoints", eps}}),
                               0600, sdk::fs::Durability::kVolatile);
}

sdk::Status BridgeDriver::apply_firewall_locked() {
  std::vector<FirewallNetwork> rules;
  for (const auto& [id, n] : networks_) {
    FirewallNetwork f{n.bridge, n.subnet, n.internal, n.masquerade, n.icc, {}, {}};
    for (const auto& [eid, e] : endpoints_) {
      if (e.network_id != id) continue;
      if (!n.icc) f.ports_ifnames.push_back(host_veth(eid));
      for (const auto& p : e.ports) {
        f.ports.push_back({p.protocol, p.host_ip, p.host_port, ip_of(e.address), p.container_port});
      }
    }
    rules.push_back(std::move(f));
  }
  // A bridge-family table is only ever touched when an icc=false network has (or had) one.
  bool bridge_table = needs_bridge_table(rules);
  auto s = run_nft(rules.empty() ? render_removal(bridge_table_) : render_ruleset(rules, bridge_table_));
  if (s) bridge_table_ = bridge_table;
  return s;
}

sdk::Status BridgeDriver::create_network(sdk::Context&, const sdk::NetworkSpec& spec) {
  if (spec.ipv4.empty()) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "a bridge network needs an IPv4 subnet");
  }
  boost::system::error_code jec;
  auto parsed = json::parse(spec.options_json, jec);
  json::object opts = !jec && parsed.is_object() ? parsed.as_object() : json::object();
  BridgeNetwork n;
  n.bridge = option(opts, "com.docker.network.bridge.name", "br-" + spec.id.substr(0, 12));
  if (n.bridge.size() > 15) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                           "bridge name \"" + n.bridge + "\" is longer than 15 characters");
  }
  n.subnet = spec.ipv4[0].subnet;
  n.gateway = spec.ipv4[0].gateway;
  try {
    n.mtu = std::stoi(option(opts, "com.docker.network.driver.mtu", "1500"));
  } catch (const std::exception&) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "com.docker.network.driver.mtu must be a number");
  }
  if (n.mtu < 68 || n.mtu > 65535) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "com.docker.network.driver.mtu must be 68-65535");
  }
  n.internal = spec.internal;
  n.masquerade = option(opts, "com.docker.network.bridge.enable_ip_masquerade", "true") != "false";
  n.icc = option(opts, "com.docker.network.bridge.enable_icc", "true") != "false";
  std::lock_guard lock(mu_);
  for (const auto& [id, other] : networks_) {
    if (id != spec.id && other.bridge == n.bridge) {
      return sdk::make_error(sdk::ErrorCode::kAlreadyExists, "bridge " + n.bridge + " is used by another network");
    }
  }
  if (!spec.restore && link_exists(n.bridge) && !networks_.contains(spec.id)) {
    return sdk::make_error(sdk::ErrorCode::kAlreadyExists,
                           "an interface named " + n.bridge + " already exists on this host; choose another "
                           "-o com.docker.network.bridge.name");
  }
  BERTH_TRY_STATUS(ensure_bridge(n.bridge, n.mtu, n.gateway + "/" + prefix_of(n.subnet)));
  // 127.0.0.1 to a published port: the DNATed packet keeps its loopback source on the bridge.
  (void)enable_sysctl("/proc/sys/net/ipv4/conf/" + n.bridge + "/route_localnet");
  if (!n.internal && !forwarding_checked_) {
    auto changed = enable_sysctl("/proc/sys/net/ipv4/ip_forward");
    if (changed && *changed) log_->warn("enabled IPv4 forwarding (net.ipv4.ip_forward=1) for bridge networks");
    forwarding_checked_ = true;
  }
  networks_[spec.id] = n;
  if (auto s = apply_firewall_locked(); !s) {
    networks_.erase(spec.id);
    if (!spec.restore) (void)delete_link(n.bridge);
    return s;
  }
  return save_locked();
}

sdk::Status BridgeDriver::delete_network(sdk::Context&, std::string_view network_id) {
  std::lock_guard lock(mu_);
  auto it = networks_.find(network_id);
  if (it == networks_.end()) return {};
  BERTH_TRY_STATUS(delete_link(it->second.bridge));
  networks_.erase(it);
  std::erase_if(endpoints_, [&](const auto& e) { return e.second.network_id == network_id; });
  BERTH_TRY_STATUS(apply_firewall_locked());
  return save_locked();
}

sdk::Result<sdk::EndpointResult> BridgeDriver::create_endpoint(sdk::Context&, const sdk::EndpointSpec& spec) {
  std::lock_guard lock(mu_);
  if (!networks_.contains(spec.network_id)) {
    return sdk::make_error(sdk::ErrorCode::kNotFound, "network " + spec.network_id + " not found");
  }
  if (spec.address.empty()) return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "endpoint without an address");
  endpoints_[spec.endpoint_id] = BridgeEndpoint{spec.network_id, spec.address, spec.mac_address, {}};
  if (!networks_.at(spec.network_id).icc) {
    if (auto s = apply_firewall_locked(); !s) {
      endpoints_.erase(spec.endpoint_id);
      return s.error();
    }
  }
  BERTH_TRY_STATUS(save_locked());
  return sdk::EndpointResult{spec.address, spec.mac_address};
}

sdk::Status BridgeDriver::delete_endpoint(sdk::Context&, std::string_view, std::string_view eid) {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(eid);
  if (it == endpoints_.end()) return {};
  auto n = networks_.find(it->second.network_id);
  bool had_rules = !it->second.ports.empty() || (n != networks_.end() && !n->second.icc);
  endpoints_.erase(it);
  if (had_rules) BERTH_TRY_STATUS(apply_firewall_locked());
  return save_locked();
}

sdk::Result<sdk::JoinResult> BridgeDriver::join(sdk::Context&, const sdk::JoinSpec& spec) {
  std::lock_guard lock(mu_);
  auto n = networks_.find(spec.network_id);
  auto e = endpoints_.find(spec.endpoint_id);
  if (n == networks_.end() || e == endpoints_.end()) {
    return sdk::make_error(sdk::ErrorCode::kNotFound, "join: unknown network or endpoint " + spec.endpoint_id);
  }
  VethPlan plan{host_veth(spec.endpoint_id), n->second.bridge, spec.netns_path,
                spec.ifname_hint.empty() ? "eth0" : spec.ifname_hint, e->second.mac, e->second.address,
                n->second.internal ? "" : n->second.gateway, n->second.mtu};
  (void)delete_link(plan.host_name);  // a crash between join and leave
  BERTH_TRY_STATUS(create_veth(plan));
  sdk::JoinResult out;
  out.interface_name = plan.inner_name;
  out.gateway = n->second.internal ? "" : n->second.gateway;
  return out;
}

sdk::Status BridgeDriver::leave(sdk::Context&, std::string_view, std::string_view eid) {
  // Deleting the host end removes the pair; a missing link (namespace gone) is fine.
  return delete_link(host_veth(eid));
}

sdk::Status BridgeDriver::program_external_connectivity(sdk::Context&, std::string_view nid, std::string_view eid,
                                                        const std::vector<sdk::PortMapping>& ports) {
  std::lock_guard lock(mu_);
  auto n = networks_.find(nid);
  auto e = endpoints_.find(eid);
  if (n == networks_.end() || e == endpoints_.end()) {
    return sdk::make_error(sdk::ErrorCode::kNotFound, "publish: unknown network or endpoint " + std::string(eid));
  }
  if (n->second.internal && !ports.empty()) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "ports cannot be published on an internal network");
  }
  for (const auto& p : ports) {
    if (p.protocol != "tcp" && p.protocol != "udp") {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "protocol " + p.protocol + " cannot be published (tcp, udp)");
    }
    if (p.host_port == 0 || p.container_port == 0) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "publish: host and container ports must be set");
    }
  }
  // Most containers publish nothing: no transaction and no state write for them (one-shot runs).
  if (ports.empty() && e->second.ports.empty()) return {};
  auto before = e->second.ports;
  e->second.ports = ports;
  if (auto s = apply_firewall_locked(); !s) {
    e->second.ports = before;
    return s;
  }
  return save_locked();
}

sdk::Status BridgeDriver::revoke_external_connectivity(sdk::Context&, std::string_view, std::string_view eid) {
  std::lock_guard lock(mu_);
  auto e = endpoints_.find(eid);
  if (e == endpoints_.end() || e->second.ports.empty()) return {};
  e->second.ports.clear();
  BERTH_TRY_STATUS(apply_firewall_locked());
  return save_locked();
}

}  // namespace berth::plugins::bridge
