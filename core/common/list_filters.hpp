// The `filters` of Docker's list and prune endpoints once parsed (key -> set of values), and the
// filters that every kind of object reads the same way. Pure: the API layer parses the query,
// images, containers, volumes and networks apply the result.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/common/result.hpp"

namespace berth::core {

using Filters = std::map<std::string, std::set<std::string>>;

// Docker's boolean filter values ("dangling=true", "dangling=1"); `fallback` when absent.
inline Result<bool> filter_bool(const Filters& f, const std::string& key, bool fallback) {
  auto it = f.find(key);
  if (it == f.end() || it->second.empty()) return fallback;
  if (it->second.size() > 1) {
    return make_error(ErrorCode::kInvalidArgument, "filter '" + key + "' takes one value");
  }
  const auto& v = *it->second.begin();
  if (v == "true" || v == "1" || v == "True") return true;
  if (v == "false" || v == "0" || v == "False") return false;
  return make_error(ErrorCode::kInvalidArgument,
                    "invalid filter '" + key + "=" + v + "': use true or false");
}

// `before=REF` and `since=REF` name an object of the listed kind; Docker keeps only the objects
// created strictly before (after) it. Both bounds are creation times in the listed kind's unit.
struct CreatedWindow {
  std::optional<int64_t> before;
  std::optional<int64_t> since;

  bool admits(int64_t created) const {
    return (!before || created < *before) && (!since || created > *since);
  }
};

// Resolves the references through `created_of` (Result<int64_t>(const std::string&)); an
// unknown reference is the caller's error as Docker reports it (404 "No such image: x").
template <class CreatedOf>
Result<CreatedWindow> created_window(const Filters& filters, CreatedOf&& created_of) {
  CreatedWindow w;
  for (auto [key, bound] : {std::pair{"before", &w.before}, std::pair{"since", &w.since}}) {
    auto it = filters.find(key);
    if (it == filters.end() || it->second.empty()) continue;
    auto t = created_of(*it->second.begin());
    if (!t) return t.error();
    *bound = *t;
  }
  return w;
}

}  // namespace berth::core
