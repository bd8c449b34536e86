// Docker's label filters ("key" or "key=value"), one matcher for every list and prune filter:
// containers (GET /containers/json, POST /containers/prune), volumes (list, prune), events.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace berth::core {

// "key": the label is set (to anything); "key=value": it is set to exactly that value.
template <class LabelMap>
bool label_matches(const LabelMap& labels, std::string_view filter) {
  const size_t eq = filter.find('=');
  auto it = labels.find(std::string(filter.substr(0, eq)));
  if (it == labels.end()) return false;
  return eq == std::string_view::npos || it->second == filter.substr(eq + 1);
}

// Every filter holds: Docker ANDs `label` filters (an empty set holds).
template <class LabelMap>
bool labels_match(const LabelMap& labels, const std::set<std::string>& filters) {
  for (const auto& f : filters) {
    if (!label_matches(labels, f)) return false;
  }
  return true;
}

// No filter holds: `label!`.
template <class LabelMap>
bool labels_match_none(const LabelMap& labels, const std::set<std::string>& filters) {
  for (const auto& f : filters) {
    if (label_matches(labels, f)) return false;
  }
  return true;
}

}  // namespace berth::core
