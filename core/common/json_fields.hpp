// Optional fields of Docker's JSON objects (container configs, host configs, image configs): a
// missing or mistyped field reads as empty, zero or false, as dockerd's Go structs would have it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::core::json_fields {

inline std::string str(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

inline int64_t num(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_number() ? v->to_number<int64_t>() : 0;
}

inline bool flag(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_bool() && v->get_bool();
}

inline boost::json::object obj(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_object() ? v->get_object() : boost::json::object();
}

}  // namespace berth::core::json_fields
