// Shape checks shared by the codec's translation units (codec.cpp, codec_task.cpp). Internal to
// the SDK's own sources: never installed.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "berth/sdk/result.hpp"

namespace berth::sdk::codec_internal {

namespace json = boost::json;

struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline const json::object& as_object(const json::value& v, std::string_view what) {
  if (!v.is_object()) throw ShapeError(std::string(what) + " must be a JSON object");
  return v.get_object();
}

inline const json::array& as_array(const json::value& v, std::string_view what) {
  if (!v.is_array()) throw ShapeError(std::string(what) + " must be a JSON array");
  return v.get_array();
}

inline std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) throw ShapeError("field \"" + std::string(key) + "\" must be a string");
  return std::string(v->get_string());
}

inline int64_t i64(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  throw ShapeError("field \"" + std::string(key) + "\" must be a number");
}

inline bool boolean(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return false;
  if (!v->is_bool()) throw ShapeError("field \"" + std::string(key) + "\" must be a boolean");
  return v->get_bool();
}

inline uint64_t u64(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
  throw ShapeError("field \"" + std::string(key) + "\" must be a non-negative integer");
}

// Parses `text` and decodes it; bad JSON or a wrong shape is kInvalidArgument naming the problem.
template <class T, class Decode>
Result<T> decode_with(std::string_view text, Decode decode) {
  try {
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) return make_error(ErrorCode::kInvalidArgument, "invalid JSON: " + ec.message());
    return decode(v);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, e.what());
  }
}

}  // namespace berth::sdk::codec_internal
