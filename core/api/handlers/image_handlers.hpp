// /images/*: list, inspect, history, tag, remove, prune, import, save, load.
#pragma once

#include "core/api/router.hpp"
#include "core/image/image_pull.hpp"
#include "core/image/image_service.hpp"

namespace berth::core::api {

// `puller` is null when no registry transport is loaded (pull then answers 501).
void register_image_routes(Router& router, image::ImageService& images,
                           image::ImagePuller* puller);

}  // namespace berth::core::api
