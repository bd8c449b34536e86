#include "core/network/ports.hpp"

#include <algorithm>
#include <charconv>

namespace json = boost::json;

namespace berth::core::network {
namespace {

Result<std::pair<uint16_t, std::string>> parse_port_proto(std::string_view key) {
  auto slash = key.find('/');
  std::string proto = slash == std::string_view::npos ? "tcp" : std::string(key.substr(slash + 1));
  auto digits = key.substr(0, slash);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    return make_error(ErrorCode::kInvalidArgument, "invalid port \"" + std::string(key) + "\"");
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp") {
    return make_error(ErrorCode::kInvalidArgument, "invalid protocol in port \"" + std::string(key) + "\"");
  }
  return std::make_pair(static_cast<uint16_t>(port), proto);
}

}  // namespace

std::string port_key(const std::string& protocol, uint16_t port) { return protocol + "/" + std::to_string(port); }

Result<std::vector<sdk::PortMapping>> requested_ports(const json::object& hc, const json::object& config) {
  std::vector<sdk::PortMapping> out;
  std::set<std::string> bound;
  if (const auto* pb = hc.if_contains("PortBindings"); pb != nullptr && pb->is_object()) {
    for (const auto& [key, list] : pb->get_object()) {
      auto pp = parse_port_proto(key);
      if (!pp) return pp.error();
      bound.insert(port_key(pp->second, pp->first));
      if (!list.is_array()) continue;
      for (const auto& b : list.get_array()) {
        if (!b.is_object()) continue;
        const auto* ip = b.get_object().if_contains("HostIp");
        const auto* hp = b.get_object().if_contains("HostPort");
        std::string host_port = hp != nullptr && hp->is_string() ? std::string(hp->get_string()) : "";
        unsigned port = 0;
        if (!host_port.empty()) {
          auto [end, ec] = std::from_chars(host_port.data(), host_port.data() + host_port.size(), port);
          if (ec != std::errc() || end != host_port.data() + host_port.size() || port > 65535) {
            return make_error(ErrorCode::kInvalidArgument, "invalid host port \"" + host_port + "\"");
          }
        }
        out.push_back({pp->second, ip != nullptr && ip->is_string() ? std::string(ip->get_string()) : "",
                       static_cast<uint16_t>(port), pp->first});
      }
    }
  }
  bool all = false;
  if (const auto* p = hc.if_contains("PublishAllPorts"); p != nullptr && p->is_bool()) all = p->get_bool();
  if (all) {
    if (const auto* e = config.if_contains("ExposedPorts"); e != nullptr && e->is_object()) {
      for (const auto& [key, _] : e->get_object()) {
        auto pp = parse_port_proto(key);
        if (!pp) return pp.error();
        if (bound.contains(port_key(pp->second, pp->first))) continue;
        out.push_back({pp->second, "", 0, pp->first});
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.container_port, a.protocol) < std::tie(b.container_port, b.protocol);
  });
  return out;
}

Status assign_host_ports(std::vector<sdk::PortMapping>& ports, const std::set<std::string>& taken,
                         const std::function<bool(const std::string&, uint16_t)>& is_free) {
  std::set<std::string> mine;
  for (const auto& p : ports) {
    if (p.host_port == 0) continue;
    auto key = port_key(p.protocol, p.host_port);
    if (taken.contains(key) || mine.contains(key)) {
      return make_error(ErrorCode::kAlreadyExists,
                        "Bind for " + (p.host_ip.empty() ? std::string("0.0.0.0") : p.host_ip) + ":" +
                            std::to_string(p.host_port) + " failed: port is already allocated");
    }
    mine.insert(key);
  }
  uint16_t next = 32768;
  for (auto& p : ports) {
    if (p.host_port != 0) continue;
    for (; next <= 60999; ++next) {
      auto key = port_key(p.protocol, next);
      if (!taken.contains(key) && !mine.contains(key) && is_free(p.protocol, next)) break;
    }
    if (next > 60999) {
      return make_error(ErrorCode::kUnavailable, "no free host port left in 32768-60999 for " +
                                                     port_key(p.protocol, p.container_port));
    }
    p.host_port = next;
    mine.insert(port_key(p.protocol, next++));
  }
  return {};
}

json::object ports_json(const std::vector<sdk::PortMapping>& published, const json::object& config) {
  json::object out;
  if (const auto* e = config.if_contains("ExposedPorts"); e != nullptr && e->is_object()) {
    for (const auto& [key, _] : e->get_object()) out[key] = nullptr;
  }
  for (const auto& p : published) {
    auto key = std::to_string(p.container_port) + "/" + p.protocol;
    if (!out.contains(key) || !out[key].is_array()) out[key] = json::array();
    out[key].as_array().push_back(json::object{{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip},
                                               {"HostPort", std::to_string(p.host_port)}});
  }
  return out;
}

}  // namespace berth::core::network
