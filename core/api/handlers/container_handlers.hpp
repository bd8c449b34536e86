// /containers/* and /commit.
#pragma once

#include "core/api/router.hpp"
#include "core/container/container_manager.hpp"

namespace berth::core::api {

void register_container_routes(Router& router, container::ContainerManager& containers);

}  // namespace berth::core::api
