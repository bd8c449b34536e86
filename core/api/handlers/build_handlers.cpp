// /build and /build/prune: answered as a daemon without an image builder.
#include "core/api/handlers/build_handlers.hpp"

#include <boost/json.hpp>

namespace json = boost::json;

namespace berth::core::api {

void register_build_routes(Router& router) {
  router.add("POST", "/build/prune", [](Request&, ResponseWriter& res) {
    res.send_json(200, json::object{{"CachesDeleted", nullptr}, {"SpaceReclaimed", 0}});
  });
  router.add("POST", "/build", [](Request&, ResponseWriter& res) {
    res.send_error(501, "berthd has no image builder yet: build with another tool and `berth load` the result");
  });
}

}  // namespace berth::core::api
