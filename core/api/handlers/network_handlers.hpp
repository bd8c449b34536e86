// /networks: Docker's network API over the network manager (which drives the network plugins).
#pragma once

#include "core/api/router.hpp"
#include "core/container/container_manager.hpp"
#include "core/network/network_manager.hpp"

namespace berth::core::api {

void register_network_routes(Router& router, network::NetworkManager& networks,
                             container::ContainerManager& containers);

}  // namespace berth::core::api
