// GET /system/df: images, containers and volumes with what they take.
#include "core/api/handlers/df_handlers.hpp"

#include <boost/json.hpp>

#include "core/api/handlers/volume_handlers.hpp"
#include "core/api/views/container_view.hpp"
#include "core/common/time.hpp"

namespace json = boost::json;

namespace berth::core::api {

void register_system_df_route(Router& router, container::ContainerManager& containers,
                              image::ImageService& images, volume::VolumeManager& volumes,
                              build::BuildCache* build_cache) {
  router.add("GET", "/system/df", [&containers, &images, &volumes, build_cache](Request& req, ResponseWriter& res) {
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
    // The builder's cache: one record per cached step (docker's BuildCache rows).
    json::value cache_rows = nullptr;
    int64_t builder_size = 0;
    if (build_cache != nullptr) {
      json::array rows;
      for (const auto& e : build_cache->entries()) {
        std::string created = rfc3339_nano(e.created * 1000000000);
        rows.push_back(json::object{{"ID", e.key.substr(7, 25)}, {"Parents", nullptr}, {"Type", "regular"},
                                    {"Description", "step image " + e.image_id}, {"InUse", false},
                                    {"Shared", false}, {"Size", e.size}, {"CreatedAt", created},
                                    {"LastUsedAt", created}, {"UsageCount", 0}});
        builder_size += e.size;
      }
      if (!rows.empty()) cache_rows = std::move(rows);
    }
    res.send_json(200, json::object{{"LayersSize", layers_size},
                                    {"Images", std::move(*image_list)},
                                    {"Containers", json::parse(*ctr_list)},
                                    {"Volumes", std::move(vols)},
                                    {"BuildCache", std::move(cache_rows)},
                                    {"BuilderSize", builder_size}});
  });
}

}  // namespace berth::core::api
