#include "cli/client/query.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "cli/app/errors.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string escape(std::string_view s, bool query) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c) || (!query && (c == '/' || c == ':' || c == '@'))) {
      out += static_cast<char>(c);
    } else if (query && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string query_escape(std::string_view s) { return escape(s, true); }
std::string path_escape(std::string_view s) { return escape(s, false); }

Query& Query::add(std::string key, std::string value) {
  params_.emplace_back(std::move(key), std::move(value));
  return *this;
}

Query& Query::add_if(bool cond, std::string key, std::string value) {
  if (cond) add(std::move(key), std::move(value));
  return *this;
}

std::string Query::encode() const {
  auto sorted = params_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](auto& a, auto& b) { return a.first < b.first; });
  std::string out;
  for (auto& [k, v] : sorted) {
    if (!out.empty()) out += '&';
    out += query_escape(k) + "=" + query_escape(v);
  }
  return out;
}

void Filters::add(const std::string& key, const std::string& value) { args_[key].insert(value); }

void Filters::add_arg(const std::string& arg) {
  bool found = false;
  auto [k, v] = split_once(arg, '=', &found);
  if (!found) throw StatusError("bad format of filter (expected name=value)", 125);
  k = to_lower(trim(k));
  add(k, trim(v));
}

const std::set<std::string>* Filters::get(const std::string& key) const {
  auto it = args_.find(key);
  return it == args_.end() ? nullptr : &it->second;
}

std::string Filters::to_json() const {
  std::string out = "{";
  bool first_key = true;
  for (auto& [k, values] : args_) {
    if (!first_key) out += ',';
    first_key = false;
    out += boost::json::serialize(boost::json::string(k)) + ":{";
    bool first = true;
    for (auto& v : values) {
      if (!first) out += ',';
      first = false;
      out += boost::json::serialize(boost::json::string(v)) + ":true";
    }
    out += '}';
  }
  return out + "}";
}

}  // namespace berth::cli
