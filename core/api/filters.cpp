#include "core/api/filters.hpp"

#include <boost/json.hpp>

namespace json = boost::json;

namespace berth::core::api {

Result<Filters> parse_filters(std::string_view text) {
  Filters out;
  if (text.empty()) return out;
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "invalid filters: must be a JSON object");
  }
  for (const auto& [key, values] : v.get_object()) {
    auto& set = out[std::string(key)];
    if (values.is_object()) {
      for (const auto& [value, on] : values.get_object()) {
        if (!on.is_bool()) {
          return make_error(ErrorCode::kInvalidArgument, "invalid filter value for '" +
                                                             std::string(key) + "'");
        }
        if (on.get_bool()) set.insert(std::string(value));
      }
    } else if (values.is_array()) {
      for (const auto& value : values.get_array()) {
        if (!value.is_string()) {
          return make_error(ErrorCode::kInvalidArgument, "invalid filter value for '" +
                                                             std::string(key) + "'");
        }
        set.insert(std::string(value.get_string()));
      }
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "invalid filter value for '" + std::string(key) + "'");
    }
  }
  return out;
}

Result<Filters> request_filters(const Request& req, const std::set<std::string>& allowed) {
  auto text = req.query_value("filters");
  if (!text) return Filters{};
  auto f = parse_filters(*text);
  if (!f) return f;
  for (const auto& [k, _] : *f) {
    if (!allowed.contains(k)) {
      return make_error(ErrorCode::kInvalidArgument, "invalid filter '" + k + "'");
    }
  }
  return f;
}

}  // namespace berth::core::api
