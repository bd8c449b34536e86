// The container side of the network manager: reservations at create, endpoints joined at start
// and left when the task is gone, connect/disconnect, and what inspect shows.
#include <chrono>
#include <boost/json.hpp>
#include <filesystem>

#include "core/common/ids.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/network/netns.hpp"
#include "core/network/network_manager.hpp"
#include "core/network/ports.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace json = boost::json;

namespace berth::core::network {

using container::ContainerRecord;
using container::NetworkAttachment;
using json_fields::str;

namespace {

// The network HostConfig.NetworkMode names; "default" is the default bridge; "" for modes that
// have no endpoint (none, host, container:<id>).
std::string primary_network(const ContainerRecord& rec) {
  std::string mode = str(rec.host_config, "NetworkMode");
  if (mode.empty() || mode == "default") return "bridge";
  if (mode == "none" || mode == "host" || mode.rfind("container:", 0) == 0) return "";
  return mode;
}

// Whether nothing in berthd's namespace holds the port (a bind test; nothing stays bound, the
// DNAT rule needs no listener).
bool port_is_free(const std::string& protocol, uint16_t port) {
  int fd = ::socket(AF_INET, (protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string prefix_len(const std::string& subnet) {
  auto slash = subnet.find('/');
  return slash == std::string::npos ? "0" : subnet.substr(slash + 1);
}

}  // namespace

Result<Endpoint> NetworkManager::allocate_locked(Network& n, const ContainerRecord& rec,
                                                 const json::object& endpoint_config) {
  if (n.builtin) {
    return make_error(ErrorCode::kPermissionDenied,
                      "container cannot be disconnected from host network or connected to host network");
  }
  if (n.endpoints.contains(rec.id)) {
    return make_error(ErrorCode::kPermissionDenied, "endpoint with name " + rec.name.substr(1) +
                                                        " already exists in network " + n.name);
  }
  Endpoint e;
  e.id = random_hex(32);
  e.container_id = rec.id;
  e.container_name = rec.name.empty() ? rec.id.substr(0, 12) : rec.name.substr(1);
  if (const auto* a = endpoint_config.if_contains("Aliases"); a != nullptr && a->is_array()) {
    for (const auto& x : a->get_array()) {
      if (x.is_string()) e.aliases.emplace_back(x.get_string());
    }
  }
  if (!n.subnet.empty()) {
    auto subnet = parse_cidr(n.subnet);
    auto gateway = parse_ipv4(n.gateway);
    if (!subnet || !gateway) return make_error(ErrorCode::kInternal, "network " + n.name + " has a bad subnet");
    std::set<uint32_t> used;
    for (const auto& [_, other] : n.endpoints) {
      if (auto ip = parse_ipv4(other.ip)) used.insert(*ip);
    }
    std::string wanted = str(json_fields::obj(endpoint_config, "IPAMConfig"), "IPv4Address");
    uint32_t ip = 0;
    if (!wanted.empty()) {
      auto w = parse_ipv4(wanted);
      if (!w) return w.error();
      if (!subnet->contains(*w) || *w == subnet->network() || *w == subnet->broadcast() || *w == *gateway) {
        return make_error(ErrorCode::kInvalidArgument,
                          "address " + wanted + " is not a usable address of network " + n.name + " (" + n.subnet + ")");
      }
      if (used.contains(*w)) {
        return make_error(ErrorCode::kAlreadyExists, "Address already in use: " + wanted + " on network " + n.name);
      }
      ip = *w;
    } else {
      std::optional<Cidr> range;
      if (!n.ip_range.empty()) {
        if (auto r = parse_cidr(n.ip_range)) range = *r;
      }
      auto got = allocate_address(*subnet, range, *gateway, used);
      if (!got) return got.error().wrap("network " + n.name);
      ip = *got;
    }
    e.ip = format_ipv4(ip);
    e.mac = str(endpoint_config, "MacAddress");
    if (e.mac.empty()) e.mac = str(rec.config, "MacAddress");
    if (e.mac.empty()) e.mac = mac_for(ip);
  }
  n.endpoints[rec.id] = e;
  return e;
}

Status NetworkManager::reserve(const ContainerRecord& rec) {
  std::string primary = primary_network(rec);
  std::vector<std::pair<std::string, json::object>> wanted;
  if (!primary.empty()) wanted.emplace_back(primary, json::object());
  for (const auto& [name, cfg] : rec.networking) {
    json::object c = cfg.is_object() ? cfg.get_object() : json::object();
    std::string key(name);
    if (key == primary || (primary == "bridge" && key == "default")) {
      if (!wanted.empty()) wanted[0].second = c;
      continue;
    }
    if (key == "host" || key == "none" || key == "default") continue;
    wanted.emplace_back(key, std::move(c));
  }
  std::lock_guard lock(mutex_);
  std::vector<Network*> done;
  auto undo = [&](Error e) -> Status {
    for (auto* n : done) {
      n->endpoints.erase(rec.id);
      (void)persist(*n);
    }
    return e;
  };
  for (const auto& [name, cfg] : wanted) {
    auto* n = find_locked(name);
    if (n == nullptr) {
      // A daemon without a default bridge (no bridge driver, or "bridge": "none") keeps the old
      // meaning of "no --network": a namespace of its own, loopback only.
      if (name == "bridge" && str(rec.host_config, "NetworkMode") != "bridge" &&
          (plugins_.network("bridge") == nullptr || options_.bridge == "none")) {
        continue;
      }
      return undo(make_error(ErrorCode::kNotFound, "network " + name + " not found"));
    }
    if (n->endpoints.contains(rec.id)) continue;
    auto e = allocate_locked(*n, rec, cfg);
    if (!e) return undo(e.error());
    done.push_back(n);
    if (auto s = persist(*n); !s) return undo(s.error());
  }
  return {};
}

NetworkAttachment NetworkManager::etc_entries(const ContainerRecord& rec) {
  NetworkAttachment out;
  std::string hostname = str(rec.config, "Hostname");
  std::lock_guard lock(mutex_);
  std::string primary = primary_network(rec);
  const Network* first = find_locked(primary);
  bool user_network = false;
  for (const auto& [_, n] : networks_) {
    auto it = n.endpoints.find(rec.id);
    if (it == n.endpoints.end()) continue;
    if (n.name != "bridge") user_network = true;
    if ((first == nullptr || &n == first) && !it->second.ip.empty() && out.hosts.empty()) {
      out.hosts = it->second.ip + "\t" + hostname + "\n";
    }
  }
  if (user_network && dns_enabled_) {
    out.resolv = "# Generated by berthd: the embedded DNS server answers names on this "
                 "container's networks and forwards the rest.\nnameserver 127.0.0.11\noptions ndots:0\n";
  }
  return out;
}

Status NetworkManager::join_locked(sdk::Context& ctx, Network& n, const Endpoint& e, const std::string& netns, int index) {
  auto* d = driver_for(n);
  if (d == nullptr) {
    return make_error(ErrorCode::kFailedPrecondition, "network " + n.name + ": driver \"" + n.driver +
                                                          "\" is not loaded; check `berth plugin ls`");
  }
  sdk::EndpointSpec spec{n.id, e.id, e.ip.empty() ? "" : e.ip + "/" + prefix_len(n.subnet), e.mac, "{}"};
  auto made = d->create_endpoint(ctx, spec);
  if (!made) return made.error().wrap("network " + n.name + ": create endpoint");
  sdk::JoinSpec join{n.id, e.id, netns, e.container_id, "eth" + std::to_string(index)};
  auto joined = d->join(ctx, join);
  if (!joined) {
    (void)d->delete_endpoint(ctx, n.id, e.id);
    return joined.error().wrap("network " + n.name + ": join");
  }
  return {};
}

void NetworkManager::leave_locked(sdk::Context& ctx, Network& n, const Endpoint& e) {
  auto* d = driver_for(n);
  if (d == nullptr) return;
  auto log = logging::get("network");
  if (auto s = d->revoke_external_connectivity(ctx, n.id, e.id); !s) {
    log->warn("network {}: revoke ports of {}: {}", n.name, e.container_name, s.error().message);
  }
  if (auto s = d->leave(ctx, n.id, e.id); !s && s.error().code != ErrorCode::kNotFound) {
    log->warn("network {}: leave {}: {}", n.name, e.container_name, s.error().message);
  }
  if (auto s = d->delete_endpoint(ctx, n.id, e.id); !s && s.error().code != ErrorCode::kNotFound) {
    log->warn("network {}: delete endpoint of {}: {}", n.name, e.container_name, s.error().message);
  }
}

Result<NetworkAttachment> NetworkManager::join_host(sdk::Context& ctx, const ContainerRecord& rec) {
  auto* d = plugins_.network("host");
  if (d == nullptr) return NetworkAttachment{};  // no net-host plugin: the backend shares it alone
  std::lock_guard lock(mutex_);
  const Network* n = find_locked("host");
  if (n == nullptr) return make_error(ErrorCode::kInternal, "the built-in host network is missing");
  std::string eid = random_hex(32);
  auto made = d->create_endpoint(ctx, sdk::EndpointSpec{n->id, eid, "", "", "{}"});
  if (!made) return made.error().wrap("network host: create endpoint");
  // The container shares berthd's namespace; the driver is told which one that is.
  auto joined = d->join(ctx, sdk::JoinSpec{n->id, eid, "/proc/self/ns/net", rec.id, ""});
  if (!joined) {
    (void)d->delete_endpoint(ctx, n->id, eid);
    return joined.error().wrap("network host: join");
  }
  host_endpoints_[rec.id] = eid;
  return NetworkAttachment{};
}

Result<NetworkAttachment> NetworkManager::attach(sdk::Context& ctx, const ContainerRecord& rec) {
  if (str(rec.host_config, "NetworkMode") == "host") return join_host(ctx, rec);
  NetworkAttachment out = etc_entries(rec);
  std::lock_guard lock(mutex_);
  std::string primary = primary_network(rec);
  std::vector<Network*> nets;
  for (auto& [_, n] : networks_) {
    if (n.endpoints.contains(rec.id)) nets.push_back(&n);
  }
  if (nets.empty()) return out;  // none, host, container:<id>
  std::stable_partition(nets.begin(), nets.end(), [&](Network* n) { return n->name == primary; });
  std::string path = netns_path(rec.id);
  (void)remove_netns(path);  // what a crash left
  BERTH_TRY_STATUS(create_netns(path));
  std::vector<std::string> joined;
  for (size_t i = 0; i < nets.size(); ++i) {
    const Endpoint& e = nets[i]->endpoints.at(rec.id);
    if (auto s = join_locked(ctx, *nets[i], e, path, static_cast<int>(i)); !s) {
      for (size_t j = 0; j < i; ++j) leave_locked(ctx, *nets[j], nets[j]->endpoints.at(rec.id));
      (void)remove_netns(path);
      return s.error();
    }
    joined.push_back(nets[i]->id);
  }
  joined_[rec.id] = std::move(joined);
  // Published ports go through the first network (docker: the one of NetworkMode).
  auto ports = requested_ports(rec.host_config, rec.config);
  Status published = ports ? Status{} : Status{ports.error()};
  if (ports && !ports->empty()) {
    std::set<std::string> taken;
    for (const auto& [_, n] : networks_) {
      for (const auto& [cid, e] : n.endpoints) {
        if (cid == rec.id) continue;
        for (const auto& p : e.ports) taken.insert(port_key(p.protocol, p.host_port));
      }
    }
    published = assign_host_ports(*ports, taken, port_is_free);
    if (published) {
      auto* d = driver_for(*nets[0]);
      Endpoint& e = nets[0]->endpoints.at(rec.id);
      published = d->program_external_connectivity(ctx, nets[0]->id, e.id, *ports);
      if (published) {
        e.ports = *ports;
        published = persist(*nets[0]);
      }
    }
  }
  if (!published) {
    joined_.erase(rec.id);
    for (auto* n : nets) leave_locked(ctx, *n, n->endpoints.at(rec.id));
    (void)remove_netns(path);
    return published.error();
  }
  if (dns_ && on_user_network_locked(rec.id)) {
    if (auto s = dns_->add(rec.id, path); !s) {
      joined_.erase(rec.id);
      for (auto* n : nets) leave_locked(ctx, *n, n->endpoints.at(rec.id));
      (void)remove_netns(path);
      return s.error().wrap("embedded DNS server");
    }
  }
  out.netns_path = path;
  return out;
}

void NetworkManager::detach(sdk::Context& ctx, const std::string& container_id) {
  if (dns_) dns_->remove(container_id);
  std::lock_guard lock(mutex_);
  if (auto h = host_endpoints_.find(container_id); h != host_endpoints_.end()) {
    const Network* host = find_locked("host");
    if (auto* d = plugins_.network("host"); d != nullptr && host != nullptr) {
      (void)d->leave(ctx, host->id, h->second);
      (void)d->delete_endpoint(ctx, host->id, h->second);
    }
    host_endpoints_.erase(h);
  }
  // The namespace goes first: with the task gone nothing holds it, and the kernel dismantles its
  // veths (both ends) in its own batched cleanup. Deleting a veth by netlink instead waits for
  // RCU grace periods under the rtnl lock (tens to hundreds of ms on a loaded host), which every
  // `run --rm` paid. leave() then finds the link gone, or deletes what is left; either way its
  // lookup waits for the rtnl lock the kernel holds while it dismantles the namespace.
  if (auto s = remove_netns(netns_path(container_id)); !s) {
    logging::get("network")->warn("container {}: {}", container_id.substr(0, 12), s.error().message);
  }
  for (auto& [_, n] : networks_) {
    auto it = n.endpoints.find(container_id);
    if (it == n.endpoints.end()) continue;
    // Timed: the driver's leave waits for the rtnl lock, which the kernel holds while it
    // dismantles the dropped namespace (10 to 50 ms per one-shot on a 2-core VM).
    auto t_leave = std::chrono::steady_clock::now();
    leave_locked(ctx, n, it->second);
    logging::get("network")->debug("container {}: left {} in {:.1f} ms", container_id.substr(0, 12), n.name,
                                   std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_leave).count());
    if (!it->second.ports.empty()) {
      it->second.ports.clear();
      (void)persist(n);
    }
  }
  joined_.erase(container_id);
}

void NetworkManager::release(const std::string& container_id) {
  std::lock_guard lock(mutex_);
  for (auto& [_, n] : networks_) {
    if (n.endpoints.erase(container_id) > 0) {
      if (auto s = persist(n, fs::Durability::kVolatile); !s) {
        logging::get("network")->warn("network {}: {}", n.name, s.error().message);
      }
    }
  }
}

size_t NetworkManager::release_unknown(const std::set<std::string>& container_ids) {
  std::lock_guard lock(mutex_);
  size_t dropped = 0;
  for (auto& [_, n] : networks_) {
    size_t before = n.endpoints.size();
    std::erase_if(n.endpoints, [&](const auto& e) { return !container_ids.contains(e.first); });
    if (n.endpoints.size() == before) continue;
    dropped += before - n.endpoints.size();
    if (auto s = persist(n); !s) logging::get("network")->warn("network {}: {}", n.name, s.error().message);
  }
  return dropped;
}

Status NetworkManager::connect(sdk::Context& ctx, std::string_view network, const ContainerRecord& rec, bool running,
                               const json::object& endpoint_config) {
  std::lock_guard lock(mutex_);
  auto* n = find_locked(network);
  if (n == nullptr) return make_error(ErrorCode::kNotFound, "network " + std::string(network) + " not found");
  auto joined = joined_.find(rec.id);
  if (running && joined == joined_.end()) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "container " + rec.name.substr(1) + " runs without a network namespace of berthd's "
                      "(--network none, host or container:); stop it, connect, and start it again");
  }
  auto e = allocate_locked(*n, rec, endpoint_config);
  if (!e) return e.error();
  if (running) {
    if (auto s = join_locked(ctx, *n, *e, netns_path(rec.id), static_cast<int>(joined->second.size())); !s) {
      n->endpoints.erase(rec.id);
      return s;
    }
    joined->second.push_back(n->id);
  }
  if (auto s = persist(*n); !s) {
    if (running) leave_locked(ctx, *n, *e);
    n->endpoints.erase(rec.id);
    return s;
  }
  return {};
}

Status NetworkManager::disconnect(sdk::Context& ctx, std::string_view network, const std::string& container_id, bool /*force*/) {
  std::lock_guard lock(mutex_);
  auto* n = find_locked(network);
  if (n == nullptr) return make_error(ErrorCode::kNotFound, "network " + std::string(network) + " not found");
  auto it = n->endpoints.find(container_id);
  if (it == n->endpoints.end()) {
    return make_error(ErrorCode::kNotFound, "container " + container_id.substr(0, 12) +
                                                " is not connected to network " + n->name);
  }
  if (auto j = joined_.find(container_id); j != joined_.end()) {
    leave_locked(ctx, *n, it->second);
    std::erase(j->second, n->id);
  }
  n->endpoints.erase(it);
  return persist(*n);
}

void NetworkManager::fill_settings(const ContainerRecord& rec, json::object& settings) {
  std::lock_guard lock(mutex_);
  auto joined = joined_.find(rec.id);
  json::object networks;
  for (const auto& [id, n] : networks_) {
    auto it = n.endpoints.find(rec.id);
    if (it == n.endpoints.end()) continue;
    const Endpoint& e = it->second;
    bool up = joined != joined_.end() && std::find(joined->second.begin(), joined->second.end(), id) !=
                                             joined->second.end();
    json::array aliases;
    for (const auto& a : e.aliases) aliases.emplace_back(a);
    if (n.name != "bridge") aliases.emplace_back(rec.id.substr(0, 12));
    json::object ep{{"IPAMConfig", nullptr},
                    {"Links", nullptr},
                    {"Aliases", aliases.empty() ? json::value(nullptr) : json::value(std::move(aliases))},
                    {"MacAddress", up ? e.mac : ""},
                    {"NetworkID", n.id},
                    {"EndpointID", up ? e.id : ""},
                    {"Gateway", up ? n.gateway : ""},
                    {"IPAddress", up ? e.ip : ""},
                    {"IPPrefixLen", up ? std::stoi(prefix_len(n.subnet)) : 0},
                    {"IPv6Gateway", ""},
                    {"GlobalIPv6Address", ""},
                    {"GlobalIPv6PrefixLen", 0},
                    {"DriverOpts", nullptr},
                    {"DNSNames", nullptr}};
    if (up && n.name == "bridge") {  // docker fills the top-level fields from the default bridge
      settings["EndpointID"] = e.id;
      settings["Gateway"] = n.gateway;
      settings["IPAddress"] = e.ip;
      settings["IPPrefixLen"] = std::stoi(prefix_len(n.subnet));
      settings["MacAddress"] = e.mac;
    }
    networks[n.name] = std::move(ep);
  }
  if (networks.empty()) return;
  if (joined != joined_.end()) {
    settings["SandboxKey"] = netns_path(rec.id);
    std::vector<sdk::PortMapping> published;
    for (const auto& [_, n] : networks_) {
      if (auto it = n.endpoints.find(rec.id); it != n.endpoints.end()) {
        published.insert(published.end(), it->second.ports.begin(), it->second.ports.end());
      }
    }
    settings["Ports"] = ports_json(published, rec.config);
  }
  settings["Networks"] = std::move(networks);
}

}  // namespace berth::core::network

namespace berth::core::network {

bool NetworkManager::on_user_network_locked(const std::string& cid) const {
  auto j = joined_.find(cid);
  if (j == joined_.end()) return false;
  for (const auto& nid : j->second) {
    auto it = networks_.find(nid);
    if (it != networks_.end() && it->second.name != "bridge") return true;
  }
  return false;
}

std::vector<uint32_t> NetworkManager::dns_lookup(const std::string& cid, const std::string& name) {
  std::lock_guard lock(mutex_);
  std::vector<uint32_t> out;
  auto mine = joined_.find(cid);
  if (mine == joined_.end()) return out;
  for (const auto& nid : mine->second) {
    const auto& n = networks_.at(nid);
    if (n.name == "bridge") continue;  // docker's default bridge has no name resolution
    for (const auto& [other, e] : n.endpoints) {
      auto j = joined_.find(other);
      if (j == joined_.end() || std::find(j->second.begin(), j->second.end(), nid) == j->second.end()) continue;
      bool match = e.container_name == name || other.substr(0, 12) == name ||
                   e.container_name + "." + n.name == name;
      for (const auto& a : e.aliases) match = match || a == name;
      if (!match) continue;
      if (auto ip = parse_ipv4(e.ip)) out.push_back(*ip);
    }
  }
  return out;
}

std::optional<std::string> NetworkManager::dns_reverse(const std::string& cid, uint32_t ip) {
  std::lock_guard lock(mutex_);
  auto mine = joined_.find(cid);
  if (mine == joined_.end()) return std::nullopt;
  std::string text = format_ipv4(ip);
  for (const auto& nid : mine->second) {
    const auto& n = networks_.at(nid);
    if (n.name == "bridge") continue;
    for (const auto& [other, e] : n.endpoints) {
      if (e.ip == text && joined_.contains(other)) return e.container_name + "." + n.name;
    }
  }
  return std::nullopt;
}

}  // namespace berth::core::network
