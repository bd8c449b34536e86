#include "core/api/router.hpp"

#include <stdexcept>

namespace berth::core::api {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  Route route;
  route.method = std::string(method);
  route.handler = std::move(handler);
  for (auto part : split_path(pattern)) {
    if (part.size() >= 3 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      if (name.back() == '*') {
        if (route.greedy >= 0) throw std::logic_error("two greedy segments in " + std::string(pattern));
        route.greedy = static_cast<int>(route.segments.size());
        route.segments.push_back({Segment::kGreedy, std::string(name.substr(0, name.size() - 1))});
      } else {
        route.segments.push_back({Segment::kParam, std::string(name)});
      }
    } else {
      route.segments.push_back({Segment::kLiteral, std::string(part)});
    }
  }
  routes_.push_back(std::move(route));
}

bool Router::match_route(const Route& route, const std::vector<std::string_view>& parts,
                         std::map<std::string, std::string>& params) {
  const auto& segs = route.segments;
  auto match_one = [&](const Segment& seg, std::string_view part) {
    if (seg.kind == Segment::kLiteral) return seg.text == part;
    params[seg.text] = std::string(part);
    return true;
  };
  if (route.greedy < 0) {
    if (segs.size() != parts.size()) return false;
    for (size_t i = 0; i < segs.size(); ++i) {
      if (!match_one(segs[i], parts[i])) return false;
    }
    return true;
  }
  size_t g = static_cast<size_t>(route.greedy);
  size_t suffix = segs.size() - g - 1;
  if (parts.size() < g + 1 + suffix) return false;
  for (size_t i = 0; i < g; ++i) {
    if (!match_one(segs[i], parts[i])) return false;
  }
  for (size_t i = 0; i < suffix; ++i) {
    if (!match_one(segs[g + 1 + i], parts[parts.size() - suffix + i])) return false;
  }
  std::string joined;
  for (size_t i = g; i < parts.size() - suffix; ++i) {
    if (!joined.empty()) joined += '/';
    joined += parts[i];
  }
  params[segs[g].text] = std::move(joined);
  return true;
}

const Handler* Router::match(std::string_view method, std::string_view path,
                             std::map<std::string, std::string>& params) const {
  auto parts = split_path(path);
  for (const auto& route : routes_) {
    if (route.method != method) continue;
    params.clear();
    if (match_route(route, parts, params)) return &route.handler;
  }
  params.clear();
  return nullptr;
}

}  // namespace berth::core::api
