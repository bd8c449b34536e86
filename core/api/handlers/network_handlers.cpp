// /networks: the predefined none and host networks, until a network driver lands.
#include "core/api/handlers/network_handlers.hpp"

#include <boost/json.hpp>

#include "core/api/views/container_view.hpp"
#include "core/common/time.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

json::object network_object(std::string_view name, std::string_view driver) {
  return json::object{{"Name", name},
                      {"Id", views::network_id(name)},
                      {"Created", rfc3339_nano(0)},
                      {"Scope", "local"},
                      {"Driver", driver},
                      {"EnableIPv6", false},
                      {"IPAM", json::object{{"Driver", "default"}, {"Options", nullptr}, {"Config", json::array()}}},
                      {"Internal", false},
                      {"Attachable", false},
                      {"Ingress", false},
                      {"ConfigFrom", json::object{{"Network", ""}}},
                      {"ConfigOnly", false},
                      {"Containers", json::object()},
                      {"Options", json::object()},
                      {"Labels", json::object()}};
}

}  // namespace

void register_network_routes(Router& router) {
  router.add("GET", "/networks", [](Request&, ResponseWriter& res) {
    res.send_json(200, json::array{network_object("none", "null"), network_object("host", "host")});
  });
  router.add("GET", "/networks/{id}", [](Request& req, ResponseWriter& res) {
    std::string id = req.param("id");
    for (const auto& [name, driver] : {std::pair{"none", "null"}, std::pair{"host", "host"}}) {
      auto obj = network_object(name, driver);
      if (id == name || std::string(obj.at("Id").as_string()).rfind(id, 0) == 0) return res.send_json(200, obj);
    }
    res.send_error(404, "network " + id + " not found");
  });
  router.add("POST", "/networks/create", [](Request&, ResponseWriter& res) {
    res.send_error(501, "creating networks needs a network driver plugin (network.bridge), which is not loaded");
  });
  router.add("DELETE", "/networks/{id}", [](Request& req, ResponseWriter& res) {
    std::string id = req.param("id");
    if (id == "none" || id == "host") {
      return res.send_error(403, id + " is a pre-defined network and cannot be removed");
    }
    res.send_error(404, "network " + id + " not found");
  });
  router.add("POST", "/networks/prune", [](Request&, ResponseWriter& res) {
    res.send_json(200, json::object{{"NetworksDeleted", nullptr}});
  });
}

}  // namespace berth::core::api
