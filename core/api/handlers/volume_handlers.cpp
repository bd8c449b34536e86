#include "core/api/handlers/volume_handlers.hpp"

#include <boost/json.hpp>
#include <regex>

#include "core/api/filters.hpp"
#include "core/common/label_filter.hpp"
#include "core/common/time.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

json::value string_map_or_null(const std::map<std::string, std::string>& m) {
  if (m.empty()) return nullptr;
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// "1.41" → 1041; anything else → -1.
int api_version_number(std::string_view v) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= v.size() || v.size() > 12) return -1;
  auto number = [](std::string_view digits) {
    int n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  int major = number(v.substr(0, dot));
  int minor = number(v.substr(dot + 1));
  if (major < 0 || minor < 0) return -1;
  return major * 1000 + minor;
}

// dockerd's filters.Args.Match: an exact value, or a regular expression found in the text.
bool filter_match(const std::set<std::string>& patterns, const std::string& text) {
  for (const auto& p : patterns) {
    if (p == text) return true;
    try {
      if (std::regex_search(text, std::regex(p, std::regex::ECMAScript))) return true;
    } catch (const std::regex_error&) {
      // An invalid expression matches nothing, as in dockerd.
    }
  }
  return false;
}

// A JSON object of strings from the create body; null or absent is empty.
Result<std::map<std::string, std::string>> string_map_field(const json::object& body,
                                                            std::string_view key) {
  std::map<std::string, std::string> out;
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_object()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid JSON: " + std::string(key) + " must be an object of strings");
  }
  for (const auto& [k, val] : v->get_object()) {
    if (!val.is_string()) {
      return make_error(ErrorCode::kInvalidArgument, "invalid JSON: " + std::string(key) + "." +
                                                         std::string(k) + " must be a string");
    }
    out[std::string(k)] = std::string(val.get_string());
  }
  return out;
}

Result<std::string> string_field(const json::object& body, std::string_view key) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid JSON: " + std::string(key) + " must be a string");
  }
  return std::string(v->get_string());
}

void volumes_list(volume::VolumeManager& volumes, Request& req, ResponseWriter& res) {
  auto filters = request_filters(req, {"dangling", "driver", "label", "name"});
  if (!filters) return res.send_error(filters.error());
  std::optional<bool> dangling;
  if (filters->contains("dangling")) {
    auto d = filter_bool(*filters, "dangling", false);
    if (!d) return res.send_error(d.error());
    dangling = *d;
  }
  json::array out;
  for (const auto& v : volumes.list()) {
    if (auto it = filters->find("name");
        it != filters->end() && !filter_match(it->second, v.name)) {
      continue;
    }
    if (auto it = filters->find("driver");
        it != filters->end() && !filter_match(it->second, v.driver)) {
      continue;
    }
    if (auto it = filters->find("label");
        it != filters->end() && !labels_match(v.labels, it->second)) {
      continue;
    }
    if (dangling && volumes.users(v.name).empty() != *dangling) continue;
    out.push_back(volume_json(v));
  }
  res.send_json(200, json::object{{"Volumes", std::move(out)}, {"Warnings", nullptr}});
}

void volumes_create(volume::VolumeManager& volumes, Request& req, ResponseWriter& res) {
  auto body = req.read_json();
  if (!body) return res.send_error(body.error());
  if (!body->is_object()) return res.send_error(400, "invalid JSON: expected an object");
  const auto& o = body->get_object();
  auto name = string_field(o, "Name");
  if (!name) return res.send_error(name.error());
  auto driver = string_field(o, "Driver");
  if (!driver) return res.send_error(driver.error());
  auto opts = string_map_field(o, "DriverOpts");
  if (!opts) return res.send_error(opts.error());
  auto labels = string_map_field(o, "Labels");
  if (!labels) return res.send_error(labels.error());
  if (!driver->empty() && *driver != "local") {
    // dockerd's wording; volume plugins are not supported by this daemon.
    return res.send_error(400, "create " + *name + ": error looking up volume plugin " + *driver +
                                   ": plugin \"" + *driver + "\" not found");
  }
  auto v = volumes.create(*name, *labels, *opts, false);
  if (!v) return res.send_error(v.error());
  res.send_json(201, volume_json(*v));
}

void volumes_prune(volume::VolumeManager& volumes, Request& req, ResponseWriter& res) {
  auto filters = request_filters(req, {"all", "label", "label!"});
  if (!filters) return res.send_error(filters.error());
  // API 1.42 narrowed prune to anonymous volumes; older clients expect every unused one gone.
  int version = api_version_number(req.api_version);
  bool all = version >= 0 && version < 1042;
  auto pruned = volumes.prune(*filters, all);
  if (!pruned) return res.send_error(pruned.error());
  json::array deleted;
  for (const auto& name : pruned->deleted) deleted.push_back(json::string(name));
  // dockerd answers [] (not null) when nothing was removed: see the volume_prune capture.
  res.send_json(200, json::object{{"VolumesDeleted", std::move(deleted)},
                                  {"SpaceReclaimed", pruned->reclaimed}});
}

}  // namespace

json::object volume_json(const volume::Volume& v,
                         std::optional<std::pair<int64_t, int64_t>> usage) {
  json::object o;
  o["CreatedAt"] = rfc3339_seconds(v.created_at);
  o["Driver"] = v.driver;
  o["Labels"] = string_map_or_null(v.labels);
  o["Mountpoint"] = v.mountpoint;
  o["Name"] = v.name;
  o["Options"] = string_map_or_null(v.options);
  o["Scope"] = "local";
  if (usage) o["UsageData"] = json::object{{"RefCount", usage->second}, {"Size", usage->first}};
  return o;
}

void register_volume_routes(Router& router, volume::VolumeManager& volumes) {
  auto* vm = &volumes;
  router.add("GET", "/volumes",
             [vm](Request& req, ResponseWriter& res) { volumes_list(*vm, req, res); });
  router.add("POST", "/volumes/create",
             [vm](Request& req, ResponseWriter& res) { volumes_create(*vm, req, res); });
  router.add("POST", "/volumes/prune",
             [vm](Request& req, ResponseWriter& res) { volumes_prune(*vm, req, res); });
  router.add("GET", "/volumes/{name}", [vm](Request& req, ResponseWriter& res) {
    auto v = vm->get(req.param("name"));
    if (!v) return res.send_error(v.error());
    res.send_json(200, volume_json(*v));
  });
  router.add("DELETE", "/volumes/{name}", [vm](Request& req, ResponseWriter& res) {
    auto st = vm->remove(req.param("name"), req.query_bool("force"));
    if (!st) return res.send_error(st.error());
    res.send_empty(204);
  });
}

}  // namespace berth::core::api
