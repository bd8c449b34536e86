// /volumes/*: list, create, inspect, remove, prune (the built-in local driver only).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <utility>

#include "core/api/router.hpp"
#include "core/volume/volume_manager.hpp"

namespace berth::core::api {

void register_volume_routes(Router& router, volume::VolumeManager& volumes);

// A volume as the API shows it: {"CreatedAt","Driver","Labels","Mountpoint","Name","Options",
// "Scope"}, Labels and Options null when empty. `usage` = (size in bytes, reference count)
// adds "UsageData":{"RefCount":..,"Size":..} for GET /system/df (-1 for "unknown", as dockerd).
boost::json::object volume_json(const volume::Volume& v,
                                std::optional<std::pair<int64_t, int64_t>> usage = std::nullopt);

}  // namespace berth::core::api
