// Routes of the daemon itself: /_ping, /version, /info, /events, /plugins.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/api/router.hpp"
#include "core/common/host_info.hpp"
#include "core/config/daemon_config.hpp"
#include "core/events/event_bus.hpp"
#include "core/plugin/plugin_manager.hpp"

namespace berth::core::api {

struct ContainerCounts {
  int64_t total = 0, running = 0, paused = 0, stopped = 0;
};

struct SystemDeps {
  const config::DaemonConfig& config;
  plugin::PluginManager& plugins;
  events::EventBus& events;
  std::string daemon_id;
  HostInfo host;
  std::function<int64_t()> image_count;
  std::function<ContainerCounts()> container_counts;
  std::function<std::vector<std::string>()> warnings;
  std::function<int64_t()> open_fds;
  std::function<int64_t()> thread_count;
  std::function<bool()> stopping;
};

void register_system_routes(Router& router, std::shared_ptr<SystemDeps> deps);

}  // namespace berth::core::api
