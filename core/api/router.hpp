// Maps (method, path) to a handler. Patterns are '/'-separated: literal segments, {name}
// (one segment) and at most one {name*} (one or more segments, for image names like
// "127.0.0.1:5000/cap/bb" in /images/{name*}/push). Routes are tried in registration order.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/request.hpp"
#include "core/api/response.hpp"

namespace berth::core::api {

using Handler = std::function<void(Request&, ResponseWriter&)>;

class Router {
 public:
  void add(std::string_view method, std::string_view pattern, Handler handler);

  // The handler for the request (params filled), or nullptr.
  const Handler* match(std::string_view method, std::string_view path,
                       std::map<std::string, std::string>& params) const;

 private:
  struct Segment {
    enum Kind { kLiteral, kParam, kGreedy } kind;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    int greedy = -1;  // index of the {name*} segment
    Handler handler;
  };
  static bool match_route(const Route& route, const std::vector<std::string_view>& parts,
                          std::map<std::string, std::string>& params);

  std::vector<Route> routes_;
};

std::vector<std::string_view> split_path(std::string_view path);

}  // namespace berth::core::api
