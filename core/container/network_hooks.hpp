// What the container manager asks of the networking layer (core/network implements it). Kept
// as a narrow interface so core/container does not depend on drivers, IPAM or nftables, and a
// berthd without a network driver works as before (no hooks: own empty namespace per container).
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "berth/sdk/host.hpp"
#include "core/common/result.hpp"
#include "core/container/container.hpp"

namespace berth::core::container {

struct NetworkAttachment {
  std::string netns_path;  // the namespace the task joins (empty: not a managed network)
  std::string hosts;       // lines for /etc/hosts ("172.18.0.2\tabc123\n")
  std::string resolv;      // /etc/resolv.conf to write instead of the host's (empty: the host's)
};

class NetworkHooks {
 public:
  virtual ~NetworkHooks() = default;
  // create: checks the container's networks exist and reserves its addresses (persistently);
  // nothing is reserved when it fails.
  virtual Status reserve(const ContainerRecord& rec) = 0;
  // What the etc files should say for this container (its own address, DNS).
  virtual NetworkAttachment etc_entries(const ContainerRecord& rec) = 0;
  // start: a namespace with the container's endpoints joined; undone by detach.
  virtual Result<NetworkAttachment> attach(sdk::Context& ctx, const ContainerRecord& rec) = 0;
  // The task is gone (stop, exit, failed start): endpoints left, namespace removed. Idempotent.
  virtual void detach(sdk::Context& ctx, const std::string& container_id) = 0;
  // rm: the container's reservations are released.
  virtual void release(const std::string& container_id) = 0;
  // inspect: NetworkSettings.Networks and the top-level IPAddress/Gateway/MacAddress/Ports.
  virtual void fill_settings(const ContainerRecord& rec, boost::json::object& network_settings) = 0;
};

}  // namespace berth::core::container
