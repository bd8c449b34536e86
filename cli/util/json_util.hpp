#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

// Tolerant accessors for daemon answers: a missing key or a null reads as the zero value, so a
// daemon that omits optional fields never breaks a command.
const boost::json::value* jfind(const boost::json::value& v, std::string_view dotted_path);
std::string jstr(const boost::json::value& v, std::string_view path);
int64_t jint(const boost::json::value& v, std::string_view path, int64_t fallback = 0);
double jnum(const boost::json::value& v, std::string_view path);
bool jbool(const boost::json::value& v, std::string_view path);
std::vector<std::string> jstrings(const boost::json::value& v, std::string_view path);
// Value as text for scalar fields ("" for null).
std::string jtext(const boost::json::value& v);
// Parses JSON text; throws std::runtime_error on invalid input.
boost::json::value parse_json(std::string_view text);

}  // namespace berth::cli
