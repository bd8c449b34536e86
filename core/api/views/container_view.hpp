// Docker's JSON shapes of containers (GET /containers/{id}/json, GET /containers/json), from
// the manager's records. Views read the object model; they never change it.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/common/result.hpp"
#include "core/container/container_manager.hpp"

namespace berth::core::api::views {

// Stable ids for the predefined networks, so `docker network ls` and inspect agree.
std::string network_id(std::string_view name);

// Inspect of one container; the caller holds c.mutex. `size` adds SizeRw and SizeRootFs (asked
// of the storage driver under the request's ctx).
boost::json::object inspect_container(sdk::Context& ctx, const container::ContainerManager& m,
                                      const container::Container& c,
                                      bool size);

// The list, serialized (each container's fixed parts are serialized once and cached in it).
Result<std::string> list_containers(sdk::Context& ctx, const container::ContainerManager& m,
                                    const Filters& filters,
                                    bool all, int limit, bool size);

}  // namespace berth::core::api::views
