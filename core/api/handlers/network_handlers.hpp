// /networks: list, inspect, and the refusals of a daemon without a network driver.
#pragma once

#include "core/api/router.hpp"

namespace berth::core::api {

void register_network_routes(Router& router);

}  // namespace berth::core::api
