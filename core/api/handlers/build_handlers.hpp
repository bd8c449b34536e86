// /build and /build/prune: the image builder (core/build) behind Docker's legacy build API.
#pragma once

#include "core/api/router.hpp"
#include "core/build/builder.hpp"
#include "core/image/image_service.hpp"
#include "core/layer/tar_stream.hpp"

namespace berth::core::api {

struct BuildLimits {
  int64_t max_context_bytes = 0;  // 0: no limit
  layer::TarLimits tar;
};

void register_build_routes(Router& router, build::Builder& builder, image::ImageService& images,
                           BuildLimits limits);

}  // namespace berth::core::api
