// Docker's stats JSON (GET /containers/{id}/stats) from the isolation backend's typed cgroup
// metrics: the wire format lives here, on the core's side of the ABI, so a vendor's backend only
// reports numbers.
#pragma once

#include <boost/json/object.hpp>

#include "core/container/container_manager.hpp"

namespace berth::core::api::views {

// One sample in Docker's shape, without precpu_stats/preread (the handler adds those from the
// previous sample). A sample without metrics (a stopped container) reports zeros, as dockerd.
// `host_memory` caps the memory limit: an unlimited cgroup says 8 EiB, dockerd shows the host's.
boost::json::object stats_json(const container::StatsSample& sample, int64_t host_memory);

}  // namespace berth::core::api::views
