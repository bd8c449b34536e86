// GET /system/df.
#pragma once

#include "core/api/router.hpp"
#include "core/build/build_cache.hpp"
#include "core/container/container_manager.hpp"
#include "core/image/image_service.hpp"
#include "core/volume/volume_manager.hpp"

namespace berth::core::api {

void register_system_df_route(Router& router, container::ContainerManager& containers,
                              image::ImageService& images, volume::VolumeManager& volumes,
                              build::BuildCache* build_cache = nullptr);

}  // namespace berth::core::api
