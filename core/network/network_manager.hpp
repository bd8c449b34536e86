// Networks: the object model behind /networks/* and the container side of networking (the
// NetworkHooks the container manager calls). Policy lives here (names, IPAM, which driver, which
// container is on which network); the drivers (network plugins) make bridges, veths and rules.
//
// Allocations are persisted in the network's record at create/connect and released at rm or
// disconnect, so a restart (or live restore) keeps every container's address. Endpoints are
// joined at start into a namespace berthd makes (<exec-root>/netns/<container id>) and left when
// the task is gone; every driver inverse is idempotent, so a detach after a crash just repeats.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/common/fs.hpp"
#include "core/container/network_hooks.hpp"
#include "core/network/dns_server.hpp"
#include "core/network/ipam.hpp"
#include "core/network/network_record.hpp"
#include "core/plugin/plugin_manager.hpp"

namespace berth::core::network {

struct NetworkOptions {
  std::string records_dir;  // <data-root>/network
  std::string netns_dir;    // <exec-root>/netns
  std::string bip;          // daemon.json "bip": the default bridge's gateway/prefix
  std::string bridge;       // daemon.json "bridge": "" (berth0), a name, or "none" (no default bridge)
  std::vector<Cidr> pools = default_pools();
  int mtu = 0;              // daemon.json "mtu" (0: the driver's default, 1500)
  bool icc = true;          // daemon.json "icc": containers on the default bridge reach each other
  // The embedded resolver's upstreams (daemon.json "dns"; empty: the host's resolv.conf).
  std::vector<std::string> dns_upstreams;
};

class NetworkManager final : public container::NetworkHooks {
 public:
  // Loads the records, replays them to their drivers (restore) and makes the default `bridge`
  // network when a bridge driver is loaded.
  static Result<std::unique_ptr<NetworkManager>> open(NetworkOptions options,
                                                      plugin::PluginManager& plugins);

  // POST /networks/create (Docker's NetworkCreateRequest).
  Result<Network> create(const boost::json::object& body);
  // Name, full id or unique id prefix; kNotFound "network x not found".
  Result<Network> find(std::string_view name_or_id) const;
  std::vector<Network> list() const;
  Status remove(std::string_view name_or_id);
  std::vector<std::string> prune(const std::map<std::string, std::string>& label_filters);
  boost::json::object inspect(const Network& n) const;

  // docker network connect/disconnect. A running container's endpoint is joined/left live.
  Status connect(std::string_view network, const container::ContainerRecord& rec, bool running,
                 const boost::json::object& endpoint_config);
  Status disconnect(std::string_view network, const std::string& container_id, bool force);

  // ---- NetworkHooks ---------------------------------------------------------------------------
  Status reserve(const container::ContainerRecord& rec) override;
  container::NetworkAttachment etc_entries(const container::ContainerRecord& rec) override;
  Result<container::NetworkAttachment> attach(const container::ContainerRecord& rec) override;
  void detach(const std::string& container_id) override;
  void release(const std::string& container_id) override;
  // At startup, after the containers are loaded: drops the allocations of containers that no
  // longer exist (a release whose unsynced write a power loss undid). Returns how many.
  size_t release_unknown(const std::set<std::string>& container_ids);
  void fill_settings(const container::ContainerRecord& rec, boost::json::object& settings) override;

 private:
  NetworkManager(NetworkOptions options, plugin::PluginManager& plugins)
      : options_(std::move(options)), plugins_(plugins) {}
  // Caller holds mutex_. kVolatile (release at rm): no fsync, since release_unknown redoes
  // a release a power loss undid; allocations are always written durably.
  Status persist(const Network& n, fs::Durability durability = fs::Durability::kDurable);
  std::string driver_options(const Network& n) const;  // JSON for sdk::NetworkSpec
  Network* find_locked(std::string_view name_or_id);
  const Network* find_locked(std::string_view name_or_id) const;
  sdk::NetworkDriver* driver_for(const Network& n) const;
  Status ensure_default_bridge();
  // Adds an endpoint for the container to n (address allocated); caller holds mutex_.
  Result<Endpoint> allocate_locked(Network& n, const container::ContainerRecord& rec,
                                   const boost::json::object& endpoint_config);
  // Endpoint create + join in the container's namespace; caller holds mutex_.
  Status join_locked(Network& n, const Endpoint& e, const std::string& netns, int index);
  void leave_locked(Network& n, const Endpoint& e);
  // --network host through the host network driver (plugins/net-host) when it is loaded.
  Result<container::NetworkAttachment> join_host(const container::ContainerRecord& rec);
  // The embedded resolver's view: names and addresses of the running containers that share a
  // user-defined network with `cid`.
  std::vector<uint32_t> dns_lookup(const std::string& cid, const std::string& name);
  std::optional<std::string> dns_reverse(const std::string& cid, uint32_t ip);
  bool on_user_network_locked(const std::string& cid) const;
  std::string netns_path(const std::string& container_id) const {
    return options_.netns_dir + "/" + container_id;
  }

  NetworkOptions options_;
  plugin::PluginManager& plugins_;
  mutable std::mutex mutex_;
  std::map<std::string, Network> networks_;             // by id (builtins included)
  std::map<std::string, std::vector<std::string>> joined_;  // container id -> network ids joined
  std::map<std::string, std::string> host_endpoints_;       // container id -> its endpoint on the host driver
  bool dns_enabled_ = false;  // the embedded resolver answers at 127.0.0.11
  std::unique_ptr<DnsServer> dns_;  // last: stopped first
};

}  // namespace berth::core::network
