#include "cli/util/json_util.hpp"

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "cli/format/json_text.hpp"

namespace berth::cli {

namespace json = boost::json;

const json::value* jfind(const json::value& v, std::string_view path) {
  const json::value* cur = &v;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    if (!cur->is_object()) return nullptr;
    cur = cur->get_object().if_contains(key);
    if (!cur) return nullptr;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return cur;
}

std::string jtext(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "";
  return go_print(v);
}

std::string jstr(const json::value& v, std::string_view path) {
  const json::value* f = jfind(v, path);
  return f ? jtext(*f) : "";
}

int64_t jint(const json::value& v, std::string_view path, int64_t fallback) {
  const json::value* f = jfind(v, path);
  if (!f) return fallback;
  if (f->is_int64()) return f->get_int64();
  if (f->is_uint64()) return static_cast<int64_t>(f->get_uint64());
  if (f->is_double()) return static_cast<int64_t>(f->get_double());
  return fallback;
}

double jnum(const json::value& v, std::string_view path) {
  const json::value* f = jfind(v, path);
  if (!f) return 0;
  if (f->is_int64()) return static_cast<double>(f->get_int64());
  if (f->is_uint64()) return static_cast<double>(f->get_uint64());
  if (f->is_double()) return f->get_double();
  return 0;
}

bool jbool(const json::value& v, std::string_view path) {
  const json::value* f = jfind(v, path);
  return f && f->is_bool() && f->get_bool();
}

std::vector<std::string> jstrings(const json::value& v, std::string_view path) {
  std::vector<std::string> out;
  const json::value* f = jfind(v, path);
  if (f && f->is_array())
    for (auto& e : f->get_array()) out.push_back(jtext(e));
  return out;
}

json::value parse_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) throw std::runtime_error("invalid JSON from daemon: " + ec.message());
  return v;
}

}  // namespace berth::cli
