// /build and /build/prune.
#pragma once

#include "core/api/router.hpp"

namespace berth::core::api {

void register_build_routes(Router& router);

}  // namespace berth::core::api
