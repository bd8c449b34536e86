// Registry operations of the Engine API: POST /images/create?fromImage= (pull, through the
// image routes), POST /images/{name}/push, POST /auth (login), GET /images/search. Without a
// registry transport plugin they answer that plainly.
#pragma once

#include "core/api/request.hpp"
#include "core/api/response.hpp"
#include "core/api/router.hpp"
#include "core/image/image_pull.hpp"
#include "core/image/image_push.hpp"

namespace berth::core::api {

// POST /images/create?fromImage=&tag=&platform=, with X-Registry-Auth.
void images_pull(image::ImagePuller* puller, Request& req, ResponseWriter& res);

// `puller` and `pusher` are null when no registry transport is loaded.
void register_distribution_routes(Router& router, image::ImagePuller* puller,
                                  image::ImagePusher* pusher);

}  // namespace berth::core::api
