// /networks: list, inspect, create, remove, prune, connect, disconnect.
#include "core/api/handlers/network_handlers.hpp"

#include <boost/json.hpp>

#include "core/api/filters.hpp"
#include "core/api/handlers/handler_util.hpp"
#include "core/common/json_fields.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

using network::Network;

bool label_match(const Network& n, const std::set<std::string>& wanted) {
  for (const auto& f : wanted) {
    auto eq = f.find('=');
    auto it = n.labels.find(f.substr(0, eq));
    if (it == n.labels.end()) return false;
    if (eq != std::string::npos && it->second != f.substr(eq + 1)) return false;
  }
  return true;
}

bool any_prefix_or_substr(const std::set<std::string>& wanted, const std::string& value, bool prefix) {
  if (wanted.empty()) return true;
  for (const auto& w : wanted) {
    if (prefix ? value.rfind(w, 0) == 0 : value.find(w) != std::string::npos) return true;
  }
  return false;
}

bool matches(const Network& n, const Filters& f) {
  auto get = [&](const char* k) -> const std::set<std::string>& {
    static const std::set<std::string> kEmpty;
    auto it = f.find(k);
    return it == f.end() ? kEmpty : it->second;
  };
  if (!any_prefix_or_substr(get("name"), n.name, false)) return false;
  if (!any_prefix_or_substr(get("id"), n.id, true)) return false;
  if (!get("driver").empty() && !get("driver").contains(n.driver)) return false;
  if (!label_match(n, get("label"))) return false;
  if (const auto& t = get("type"); !t.empty()) {
    bool builtin = n.builtin || n.name == "bridge";
    if (!(t.contains("builtin") && builtin) && !(t.contains("custom") && !builtin)) return false;
  }
  return true;
}

// Connect and disconnect: {"Container": name-or-id, ...}.
Result<std::shared_ptr<container::Container>> body_container(container::ContainerManager& cm,
                                                             const json::object& body) {
  std::string name = json_fields::str(body, "Container");
  if (name.empty()) return make_error(ErrorCode::kInvalidArgument, "Container must be given");
  return cm.find(name);
}

}  // namespace

void register_network_routes(Router& router, network::NetworkManager& nm,
                             container::ContainerManager& cm) {
  router.add("GET", "/networks", [&nm](Request& req, ResponseWriter& res) {
    auto f = request_filters(req, {"name", "id", "driver", "label", "type", "scope", "dangling"});
    if (!f) return res.send_error(f.error());
    json::array out;
    for (const auto& n : nm.list()) {
      if (matches(n, *f)) out.push_back(nm.inspect(n));
    }
    res.send_json(200, out);
  });
  router.add("GET", "/networks/{id}", [&nm](Request& req, ResponseWriter& res) {
    auto n = nm.find(req.param("id"));
    if (!n) return res.send_error(n.error());
    res.send_json(200, nm.inspect(*n));
  });
  router.add("POST", "/networks/create", [&nm](Request& req, ResponseWriter& res) {
    auto body = req.read_json();
    if (!body) return res.send_error(body.error());
    if (!body->is_object()) return res.send_error(400, "invalid JSON: expected an object");
    auto n = nm.create(req.ctx(), body->get_object());
    if (!n) return res.send_error(n.error());
    res.send_json(201, json::object{{"Id", n->id}, {"Warning", ""}});
  });
  router.add("DELETE", "/networks/{id}", [&nm](Request& req, ResponseWriter& res) {
    send_status(res, nm.remove(req.ctx(), req.param("id")));
  });
  router.add("POST", "/networks/prune", [&nm](Request& req, ResponseWriter& res) {
    auto f = request_filters(req, {"label", "until"});
    if (!f) return res.send_error(f.error());
    std::map<std::string, std::string> labels;
    if (auto it = f->find("label"); it != f->end()) {
      for (const auto& l : it->second) {
        auto eq = l.find('=');
        labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
      }
    }
    json::array deleted;
    for (const auto& name : nm.prune(req.ctx(), labels)) deleted.emplace_back(name);
    res.send_json(200, json::object{{"NetworksDeleted", deleted.empty() ? json::value(nullptr) : json::value(deleted)}});
  });
  router.add("POST", "/networks/{id}/connect", [&nm, &cm](Request& req, ResponseWriter& res) {
    auto body = req.read_json();
    if (!body) return res.send_error(body.error());
    if (!body->is_object()) return res.send_error(400, "invalid JSON: expected an object");
    auto c = body_container(cm, body->get_object());
    if (!c) return res.send_error(c.error());
    container::ContainerRecord rec;
    bool running;
    {
      std::lock_guard lock((*c)->mutex);
      rec = (*c)->record;
      running = container::is_running(rec.state.status);
    }
    send_status(res, nm.connect(req.ctx(), req.param("id"), rec, running,
                                json_fields::obj(body->get_object(), "EndpointConfig")),
                200);
  });
  router.add("POST", "/networks/{id}/disconnect", [&nm, &cm](Request& req, ResponseWriter& res) {
    auto body = req.read_json();
    if (!body) return res.send_error(body.error());
    if (!body->is_object()) return res.send_error(400, "invalid JSON: expected an object");
    auto c = body_container(cm, body->get_object());
    if (!c) return res.send_error(c.error());
    std::string id;
    {
      std::lock_guard lock((*c)->mutex);
      id = (*c)->record.id;
    }
    send_status(res, nm.disconnect(req.ctx(), req.param("id"), id, json_fields::flag(body->get_object(), "Force")), 200);
  });
}

}  // namespace berth::core::api
