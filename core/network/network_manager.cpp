#include "core/network/network_manager.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"
#include "core/network/netns.hpp"

namespace json = boost::json;

namespace berth::core::network {

using json_fields::str;

namespace {

constexpr std::string_view kBridgeNameOption = "com.docker.network.bridge.name";

std::string builtin_id(std::string_view name) {
  return Sha256::of("berth-network-" + std::string(name)).substr(7);
}

// The host's routes in berthd's namespace (/proc/net/route), so the default bridge's subnet
// does not shadow a network the host already reaches.
std::vector<Cidr> host_routes() {
  std::vector<Cidr> out;
  std::ifstream in("/proc/net/route");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string iface, dest, gw, flags, refcnt, use, metric, mask;
    if (!(f >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
    uint32_t d = __builtin_bswap32(static_cast<uint32_t>(std::stoul(dest, nullptr, 16)));
    uint32_t m = __builtin_bswap32(static_cast<uint32_t>(std::stoul(mask, nullptr, 16)));
    if (m == 0) continue;  // the default route overlaps everything and says nothing
    out.push_back({d, __builtin_popcount(m)});
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<NetworkManager>> NetworkManager::open(NetworkOptions options,
                                                             plugin::PluginManager& plugins) {
  BERTH_TRY_STATUS(fs::ensure_dir(options.records_dir, 0700));
  BERTH_TRY_STATUS(fs::ensure_dir(options.netns_dir, 0700));
  std::unique_ptr<NetworkManager> m(new NetworkManager(std::move(options), plugins));
  auto log = logging::get("network");
  for (const auto& [name, driver] : {std::pair{"host", "host"}, std::pair{"none", "null"}}) {
    Network n;
    n.id = builtin_id(name);
    n.name = name;
    n.driver = driver;
    n.builtin = true;
    m->networks_[n.id] = n;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(m->options_.records_dir, ec)) {
    auto name = entry.path().filename().string();
    if (sdk::fs::is_atomic_write_leftover(name)) {
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    if (entry.path().extension() != ".json") continue;
    auto text = fs::read_file(entry.path());
    if (!text) return text.error();
    boost::system::error_code jec;
    auto v = json::parse(*text, jec);
    if (jec || !v.is_object()) {
      return make_error(ErrorCode::kInternal, "network record " + entry.path().string() +
                                                  " is not JSON; move it away to start without it");
    }
    auto n = network_from_json(v.get_object());
    if (!n) return n.error().wrap(entry.path().string());
    m->networks_[n->id] = std::move(*n);
  }
  // Replay to the drivers: they adopt what exists (restore = true) and recreate what a reboot lost.
  for (auto& [id, n] : m->networks_) {
    if (n.builtin) continue;
    auto* d = m->driver_for(n);
    if (d == nullptr) {
      log->warn("network {} ({}): driver \"{}\" is not loaded; its containers cannot start", n.name,
                id.substr(0, 12), n.driver);
      continue;
    }
    sdk::Context ctx;
    sdk::NetworkSpec spec{n.id, n.name, m->driver_options(n), {}, n.internal, true};
    if (!n.subnet.empty()) spec.ipv4.push_back({n.subnet, n.gateway});
    if (auto s = d->create_network(ctx, spec); !s) {
      log->error("network {} ({}): restore in driver {} failed: {}", n.name, id.substr(0, 12),
                 n.driver, s.error().message);
    }
  }
  // Live restore: containers that kept running while berthd was down keep their namespace.
  for (auto& [id, n] : m->networks_) {
    for (const auto& [cid, _] : n.endpoints) {
      if (std::filesystem::exists(m->netns_path(cid))) m->joined_[cid].push_back(id);
    }
  }
  std::vector<std::string> upstreams = m->options_.dns_upstreams;
  if (upstreams.empty()) {
    std::ifstream resolv("/etc/resolv.conf");
    std::string line;
    while (std::getline(resolv, line)) {
      std::istringstream f(line);
      std::string key, server;
      if (f >> key >> server && key == "nameserver" && server.find(':') == std::string::npos) {
        upstreams.push_back(server);
      }
    }
  }
  auto* raw = m.get();
  auto dns = DnsServer::start(upstreams, {[raw](const std::string& cid, const std::string& name) {
                                            return raw->dns_lookup(cid, name);
                                          },
                                          [raw](const std::string& cid, uint32_t ip) {
                                            return raw->dns_reverse(cid, ip);
                                          }});
  if (dns) {
    m->dns_ = std::move(*dns);
    m->dns_enabled_ = true;
    for (const auto& [cid, _] : m->joined_) {
      if (!m->on_user_network_locked(cid)) continue;
      if (auto s = m->dns_->add(cid, m->netns_path(cid)); !s) {
        log->warn("container {}: embedded DNS: {}", cid.substr(0, 12), s.error().message);
      }
    }
  } else {
    log->warn("embedded DNS server disabled: {}", dns.error().message);
  }
  BERTH_TRY_STATUS(m->ensure_default_bridge());
  return m;
}

sdk::NetworkDriver* NetworkManager::driver_for(const Network& n) const {
  return plugins_.network(n.driver);
}

Status NetworkManager::ensure_default_bridge() {
  if (plugins_.network("bridge") == nullptr || options_.bridge == "none") return {};
  constexpr std::string_view kIccOption = "com.docker.network.bridge.enable_icc";
  const std::string icc = options_.icc ? "true" : "false";
  {
    std::lock_guard lock(mutex_);
    if (auto* existing = find_locked("bridge"); existing != nullptr) {
      // daemon.json "icc" is read at every start, as docker does: a changed value is written to
      // the record and the driver re-renders its rules for the network.
      auto& current = existing->options[std::string(kIccOption)];
      if (current == icc) return {};
      current = icc;
      BERTH_TRY_STATUS(persist(*existing));
      if (auto* d = driver_for(*existing)) {
        sdk::Context ctx;
        sdk::NetworkSpec spec{existing->id, existing->name, driver_options(*existing),
                              {{existing->subnet, existing->gateway}}, existing->internal, true};
        BERTH_TRY_STATUS(d->create_network(ctx, spec));
      }
      logging::get("network")->info("default network bridge: icc {}", icc);
      return {};
    }
  }
  json::object body{{"Name", "bridge"}, {"Driver", "bridge"}};
  json::object options{{std::string(kBridgeNameOption), options_.bridge.empty() ? "berth0" : options_.bridge},
                       {"com.docker.network.bridge.default_bridge", "true"},
                       {std::string(kIccOption), icc},
                       {"com.docker.network.bridge.enable_ip_masquerade", "true"},
                       {"com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"},
                       {"com.docker.network.driver.mtu", std::to_string(options_.mtu > 0 ? options_.mtu : 1500)}};
  body["Options"] = std::move(options);
  if (!options_.bip.empty()) {
    auto bip = parse_cidr(options_.bip);
    if (!bip) return bip.error().wrap("daemon.json \"bip\"");
    body["IPAM"] = json::object{{"Config", json::array{json::object{
                                               {"Subnet", bip->str()}, {"Gateway", format_ipv4(bip->address)}}}}};
  }
  auto made = create(body);
  if (!made) return made.error().wrap("create the default bridge network");
  logging::get("network")->info("default network bridge: {} on {} (gateway {})", made->subnet,
                                made->options.at(std::string(kBridgeNameOption)), made->gateway);
  return {};
}

Network* NetworkManager::find_locked(std::string_view key) {
  return const_cast<Network*>(std::as_const(*this).find_locked(key));
}

const Network* NetworkManager::find_locked(std::string_view key) const {
  if (key.empty()) return nullptr;
  for (const auto& [id, n] : networks_) {
    if (n.name == key || id == key) return &n;
  }
  const Network* match = nullptr;
  for (const auto& [id, n] : networks_) {
    if (id.rfind(key, 0) == 0) {
      if (match != nullptr) return nullptr;  // ambiguous
      match = &n;
    }
  }
  return match;
}

// The options the driver gets: the user's (what inspect shows, as docker does; compose compares
// them with its file and recreates a network whose Options differ) plus the daemon's defaults.
// The bridge driver names an unnamed network's bridge br-<id12> itself.
std::string NetworkManager::driver_options(const Network& n) const {
  auto options = n.options;
  if (options_.mtu > 0) options.try_emplace("com.docker.network.driver.mtu", std::to_string(options_.mtu));
  return json::serialize(json::value_from(options));
}

Status NetworkManager::persist(const Network& n, fs::Durability durability) {
  if (n.builtin) return {};
  return fs::atomic_write(options_.records_dir + "/" + n.id + ".json",
                          json::serialize(to_json(n)), 0600, durability);
}

Result<Network> NetworkManager::find(std::string_view key) const {
  std::lock_guard lock(mutex_);
  if (const auto* n = find_locked(key)) return *n;
  return make_error(ErrorCode::kNotFound, "network " + std::string(key) + " not found");
}

std::vector<Network> NetworkManager::list() const {
  std::lock_guard lock(mutex_);
  std::vector<Network> out;
  for (const auto& [_, n] : networks_) out.push_back(n);
  return out;
}

json::object NetworkManager::inspect(const Network& n) const {
  std::map<std::string, bool> running;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [cid, nets] : joined_) {
      running[cid] = std::find(nets.begin(), nets.end(), n.id) != nets.end();
    }
  }
  return inspect_json(n, running);
}

Result<Network> NetworkManager::create(const json::object& body) {
  Network n;
  n.name = str(body, "Name");
  n.driver = str(body, "Driver");
  if (n.driver.empty()) n.driver = "bridge";
  if (n.name.empty()) return make_error(ErrorCode::kInvalidArgument, "network name must not be empty");
  if (n.name.find_first_of("/: \t") != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "invalid network name \"" + n.name + "\"");
  }
  if (n.driver == "host" || n.driver == "null") {
    return make_error(ErrorCode::kPermissionDenied,
                      "only one instance of \"" + n.driver + "\" network is allowed");
  }
  auto* driver = plugins_.network(n.driver);
  if (driver == nullptr) {
    std::string loaded;
    for (const auto& d : plugins_.network_driver_names()) loaded += (loaded.empty() ? "" : ", ") + d;
    return make_error(ErrorCode::kNotFound,
                      "network driver \"" + n.driver + "\" is not loaded (loaded network drivers: " +
                          (loaded.empty() ? "none" : loaded) +
                          "); install its plugin and check `berth plugin ls`");
  }
  n.internal = json_fields::flag(body, "Internal");
  n.attachable = json_fields::flag(body, "Attachable");
  for (const auto& [k, v] : json_fields::obj(body, "Labels")) {
    if (v.is_string()) n.labels[std::string(k)] = std::string(v.get_string());
  }
  for (const auto& [k, v] : json_fields::obj(body, "Options")) {
    if (v.is_string()) n.options[std::string(k)] = std::string(v.get_string());
  }
  auto ipam = json_fields::obj(body, "IPAM");
  json::object config;
  if (const auto* c = ipam.if_contains("Config"); c != nullptr && c->is_array() && !c->get_array().empty()) {
    if (c->get_array().size() > 1 || !c->get_array()[0].is_object()) {
      return make_error(ErrorCode::kInvalidArgument, "berthd supports one IPv4 IPAM config per network");
    }
    config = c->get_array()[0].get_object();
  }
  std::lock_guard lock(mutex_);
  if (find_locked(n.name) != nullptr && !n.name.empty()) {
    for (const auto& [_, other] : networks_) {
      if (other.name == n.name) {
        return make_error(ErrorCode::kAlreadyExists, "network with name " + n.name + " already exists");
      }
    }
  }
  // Subnet: as given (must not overlap another network's), or the first free pool.
  std::vector<Cidr> in_use = host_routes();
  for (const auto& [_, other] : networks_) {
    if (auto c = parse_cidr(other.subnet)) in_use.push_back(*c);
  }
  Cidr subnet;
  if (std::string s = str(config, "Subnet"); !s.empty()) {
    auto c = parse_cidr(s);
    if (!c) return c.error();
    if (c->prefix > 30) return make_error(ErrorCode::kInvalidArgument, "subnet " + s + " is too small");
    for (const auto& [_, other] : networks_) {
      auto o = parse_cidr(other.subnet);
      if (o && o->overlaps(*c)) {
        return make_error(ErrorCode::kPermissionDenied, "Pool overlaps with other one on this address space (" +
                                                            other.name + " has " + other.subnet + ")");
      }
    }
    subnet = *c;
  } else {
    auto c = pick_subnet(options_.pools, in_use);
    if (!c) return c.error();
    subnet = *c;
  }
  uint32_t gateway = subnet.network() + 1;
  if (std::string g = str(config, "Gateway"); !g.empty()) {
    auto ip = parse_ipv4(g);
    if (!ip) return ip.error();
    if (!subnet.contains(*ip)) {
      return make_error(ErrorCode::kInvalidArgument, "gateway " + g + " is not in subnet " + subnet.str());
    }
    gateway = *ip;
  }
  if (std::string r = str(config, "IPRange"); !r.empty()) {
    auto c = parse_cidr(r);
    if (!c) return c.error();
    if (!subnet.contains(c->network()) || c->prefix < subnet.prefix) {
      return make_error(ErrorCode::kInvalidArgument, "ip-range " + r + " is not inside subnet " + subnet.str());
    }
    n.ip_range = c->str();
  }
  n.subnet = subnet.str();
  n.gateway = format_ipv4(gateway);
  n.id = new_object_id();
  n.created = now_unix_nano();
  sdk::Context ctx;
  sdk::NetworkSpec spec{n.id, n.name, driver_options(n),
                        {{n.subnet, n.gateway}}, n.internal, false};
  if (auto s = driver->create_network(ctx, spec); !s) return s.error().wrap("driver " + n.driver);
  if (auto s = persist(n); !s) {
    (void)driver->delete_network(ctx, n.id);
    return s.error();
  }
  networks_[n.id] = n;
  logging::get("network")->info("network {} created: driver {}, subnet {}", n.name, n.driver, n.subnet);
  return n;
}

Status NetworkManager::remove(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto* n = find_locked(key);
  if (n == nullptr) return make_error(ErrorCode::kNotFound, "network " + std::string(key) + " not found");
  if (n->builtin || n->name == "bridge") {
    return make_error(ErrorCode::kPermissionDenied,
                      n->name + " is a pre-defined network and cannot be removed");
  }
  if (!n->endpoints.empty()) {
    std::string who;
    for (const auto& [_, e] : n->endpoints) who += (who.empty() ? "" : ", ") + e.container_name;
    return make_error(ErrorCode::kPermissionDenied, "error while removing network: network " + n->name +
                                                        " id " + n->id + " has active endpoints (" + who +
                                                        "); remove or disconnect them first");
  }
  if (auto* d = driver_for(*n)) {
    sdk::Context ctx;
    if (auto s = d->delete_network(ctx, n->id); !s && s.error().code != ErrorCode::kNotFound) {
      return s.error().wrap("driver " + n->driver);
    }
  }
  std::error_code ec;
  std::filesystem::remove(options_.records_dir + "/" + n->id + ".json", ec);
  logging::get("network")->info("network {} removed", n->name);
  networks_.erase(n->id);
  return {};
}

std::vector<std::string> NetworkManager::prune(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> candidates;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, n] : networks_) {
      if (n.builtin || n.name == "bridge" || !n.endpoints.empty()) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = n.labels.find(k);
        match = match && it != n.labels.end() && (v.empty() || it->second == v);
      }
      if (match) candidates.push_back(n.name);
    }
  }
  std::vector<std::string> removed;
  for (const auto& name : candidates) {
    if (remove(name)) removed.push_back(name);
  }
  return removed;
}

}  // namespace berth::core::network
