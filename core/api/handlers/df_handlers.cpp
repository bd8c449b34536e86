// GET /system/df: images, containers and volumes with what they take.
#include "core/api/handlers/df_handlers.hpp"

#include <boost/json.hpp>

#include "core/api/handlers/volume_handlers.hpp"
#include "core/api/views/container_view.hpp"

namespace json = boost::json;

namespace berth::core::api {

void register_system_df_route(Router& router, container::ContainerManager& containers,
                              image::ImageService& images, volume::VolumeManager& volumes) {
  router.add("GET", "/system/df", [&containers, &images, &volumes](Request& req, ResponseWriter& res) {
    auto image_list = images.list({}, true, true);
    if (!image_list) return res.send_error(image_list.error());
    int64_t layers_size = 0;
    for (auto& v : *image_list) {
      auto& o = v.as_object();
      layers_size += o.at("Size").as_int64();
      // The daemon fills what the CLI's df table needs: users per image, shared size unknown.
      int64_t users = static_cast<int64_t>(
          containers.image_users(std::string(o.at("Id").as_string())).running.size() +
          containers.image_users(std::string(o.at("Id").as_string())).stopped.size());
      o["Containers"] = users;
      o["SharedSize"] = 0;
    }
    auto ctr_list = views::list_containers(req.ctx(), containers, {}, true, -1, true);
    if (!ctr_list) return res.send_error(ctr_list.error());
    json::array vols;
    for (const auto& v : volumes.list()) {
      auto size = volumes.size(v.name);
      vols.push_back(volume_json(v, std::make_pair(size ? *size : -1,
                                                   static_cast<int64_t>(volumes.users(v.name).size()))));
    }
    res.send_json(200, json::object{{"LayersSize", layers_size},
                                    {"Images", std::move(*image_list)},
                                    {"Containers", json::parse(*ctr_list)},
                                    {"Volumes", std::move(vols)},
                                    {"BuildCache", nullptr},
                                    {"BuilderSize", 0}});
  });
}

}  // namespace berth::core::api
