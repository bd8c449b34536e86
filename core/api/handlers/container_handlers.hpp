// /containers/*, /exec/*, /commit, /networks (the predefined ones), /system/df, build stubs.
#pragma once

#include "core/api/router.hpp"
#include "core/container/container_manager.hpp"
#include "core/image/image_service.hpp"
#include "core/volume/volume_manager.hpp"

namespace berth::core::api {

void register_container_routes(Router& router, container::ContainerManager& containers);

// GET /system/df: images, containers and volumes with their sizes.
void register_system_df_route(Router& router, container::ContainerManager& containers,
                              image::ImageService& images, volume::VolumeManager& volumes);

}  // namespace berth::core::api
