#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace berth::cli {

// Percent-encoding as Go's url.QueryEscape does it (space becomes '+').
std::string query_escape(std::string_view s);
// Percent-encoding for a path segment (Go's url.PathEscape; '/' and ':' kept so image names with
// a registry port and namespaces route like docker's).
std::string path_escape(std::string_view s);

// An ordered list of query parameters; encode() sorts by key like Go's url.Values.Encode.
class Query {
 public:
  Query& add(std::string key, std::string value);
  Query& add_if(bool cond, std::string key, std::string value);
  bool empty() const { return params_.empty(); }
  std::string encode() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// docker's filters.Args: key -> set of values, encoded as {"key":{"value":true}}.
class Filters {
 public:
  void add(const std::string& key, const std::string& value);
  // Parses "key=value" from -f/--filter; throws StatusError("bad format of filter ...").
  void add_arg(const std::string& arg);
  bool empty() const { return args_.empty(); }
  bool contains(const std::string& key) const { return args_.count(key) != 0; }
  const std::set<std::string>* get(const std::string& key) const;
  // JSON text with sorted keys, as Go marshals a map.
  std::string to_json() const;

 private:
  std::map<std::string, std::set<std::string>> args_;
};

}  // namespace berth::cli
