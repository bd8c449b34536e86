// The `filters` query parameter of list and prune endpoints: a JSON object mapping each key to
// a set of values, {"label":{"a=b":true}} (current) or {"label":["a=b"]} (legacy clients).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/api/request.hpp"
#include "core/common/result.hpp"
#include "core/common/list_filters.hpp"

namespace berth::core::api {

Result<Filters> parse_filters(std::string_view json_text);

// Reads ?filters=, refusing keys outside `allowed` with Docker's "invalid filter 'x'".
Result<Filters> request_filters(const Request& req, const std::set<std::string>& allowed);

}  // namespace berth::core::api
