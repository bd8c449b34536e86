#include "core/network/network_record.hpp"

#include "core/common/json_fields.hpp"
#include "core/common/time.hpp"

namespace json = boost::json;

namespace berth::core::network {

using json_fields::str;

namespace {

json::object string_map(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

std::map<std::string, std::string> read_map(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : json_fields::obj(o, key)) {
    if (v.is_string()) out[std::string(k)] = std::string(v.get_string());
  }
  return out;
}

}  // namespace

json::object to_json(const Network& n) {
  json::object eps;
  for (const auto& [cid, e] : n.endpoints) {
    json::array aliases;
    for (const auto& a : e.aliases) aliases.emplace_back(a);
    json::array ports;
    for (const auto& p : e.ports) {
      ports.push_back(json::object{{"Proto", p.protocol}, {"HostIp", p.host_ip}, {"HostPort", p.host_port},
                                   {"ContainerPort", p.container_port}});
    }
    eps[cid] = json::object{{"Id", e.id},   {"ContainerId", e.container_id}, {"Name", e.container_name},
                            {"IP", e.ip},   {"Mac", e.mac},                  {"Aliases", std::move(aliases)},
                            {"Ports", std::move(ports)}};
  }
  return json::object{{"Id", n.id},           {"Name", n.name},         {"Driver", n.driver},
                      {"Created", n.created}, {"Internal", n.internal}, {"Attachable", n.attachable},
                      {"Subnet", n.subnet},   {"Gateway", n.gateway},   {"IPRange", n.ip_range},
                      {"Labels", string_map(n.labels)}, {"Options", string_map(n.options)},
                      {"Endpoints", std::move(eps)}};
}

Result<Network> network_from_json(const json::object& o) {
  Network n;
  n.id = str(o, "Id");
  n.name = str(o, "Name");
  n.driver = str(o, "Driver");
  if (n.id.empty() || n.name.empty() || n.driver.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "network record without Id, Name or Driver");
  }
  n.created = json_fields::num(o, "Created");
  n.internal = json_fields::flag(o, "Internal");
  n.attachable = json_fields::flag(o, "Attachable");
  n.subnet = str(o, "Subnet");
  n.gateway = str(o, "Gateway");
  n.ip_range = str(o, "IPRange");
  n.labels = read_map(o, "Labels");
  n.options = read_map(o, "Options");
  for (const auto& [cid, v] : json_fields::obj(o, "Endpoints")) {
    if (!v.is_object()) continue;
    const auto& e = v.get_object();
    Endpoint ep{str(e, "Id"), str(e, "ContainerId"), str(e, "Name"), str(e, "IP"), str(e, "Mac"), {}};
    if (const auto* a = e.if_contains("Aliases"); a != nullptr && a->is_array()) {
      for (const auto& x : a->get_array()) {
        if (x.is_string()) ep.aliases.emplace_back(x.get_string());
      }
    }
    if (const auto* ps = e.if_contains("Ports"); ps != nullptr && ps->is_array()) {
      for (const auto& p : ps->get_array()) {
        if (!p.is_object()) continue;
        const auto& po = p.get_object();
        ep.ports.push_back({str(po, "Proto"), str(po, "HostIp"),
                            static_cast<uint16_t>(json_fields::num(po, "HostPort")),
                            static_cast<uint16_t>(json_fields::num(po, "ContainerPort"))});
      }
    }
    n.endpoints[std::string(cid)] = std::move(ep);
  }
  return n;
}

json::object inspect_json(const Network& n, const std::map<std::string, bool>& running) {
  json::array config;
  if (!n.subnet.empty()) {
    json::object c{{"Subnet", n.subnet}, {"Gateway", n.gateway}};
    if (!n.ip_range.empty()) c["IPRange"] = n.ip_range;
    config.push_back(std::move(c));
  }
  json::object containers;
  for (const auto& [cid, e] : n.endpoints) {
    auto it = running.find(cid);
    if (it == running.end() || !it->second) continue;  // docker lists attached (running) ones
    std::string prefix = n.subnet.substr(n.subnet.find('/') == std::string::npos ? n.subnet.size()
                                                                                  : n.subnet.find('/'));
    containers[cid] = json::object{{"Name", e.container_name},
                                   {"EndpointID", e.id},
                                   {"MacAddress", e.mac},
                                   {"IPv4Address", e.ip.empty() ? std::string() : e.ip + prefix},
                                   {"IPv6Address", ""}};
  }
  return json::object{{"Name", n.name},
                      {"Id", n.id},
                      {"Created", rfc3339_nano(n.created)},
                      {"Scope", "local"},
                      {"Driver", n.driver},
                      {"EnableIPv6", false},
                      {"IPAM", json::object{{"Driver", "default"}, {"Options", nullptr},
                                            {"Config", std::move(config)}}},
                      {"Internal", n.internal},
                      {"Attachable", n.attachable},
                      {"Ingress", false},
                      {"ConfigFrom", json::object{{"Network", ""}}},
                      {"ConfigOnly", false},
                      {"Containers", std::move(containers)},
                      {"Options", string_map(n.options)},
                      {"Labels", string_map(n.labels)}};
}

}  // namespace berth::core::network
