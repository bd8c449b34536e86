// /images/*: list, inspect, history, tag, remove, prune, import, save, load.
#pragma once

#include "core/api/router.hpp"
#include "core/image/image_service.hpp"

namespace berth::core::api {

void register_image_routes(Router& router, image::ImageService& images);

}  // namespace berth::core::api
