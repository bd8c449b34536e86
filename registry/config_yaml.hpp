// YAML config files, read into the same JSON value the JSON reader checks, so both formats
// share one set of keys, defaults and error messages.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/common/result.hpp"

namespace berth::registry {

// The YAML document as JSON. Plain scalars take their YAML 1.2 core type (true/false, null or
// ~, whole numbers, decimals); quoted scalars and everything else are strings, so "90s" and
// '3600' stay text. Errors: "config FILE: ..." with the line and column, or the key at fault
// (a duplicated key, a key that is not a plain value).
Result<boost::json::value> yaml_to_json(std::string_view text, const std::string& path);

// Whether a config file is YAML: by its extension (.yaml, .yml; .json is JSON), otherwise by
// its content (JSON starts with '{').
bool looks_like_yaml(const std::string& path, std::string_view text);

}  // namespace berth::registry
