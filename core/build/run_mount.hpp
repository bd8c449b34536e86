// `RUN --mount=...` options (BuildKit's syntax: comma-separated key=value, type first by habit),
// parsed apart from the builder so they can be unit-tested.
#pragma once

#include <string>

#include "core/common/result.hpp"

namespace berth::core::build {

// One `RUN --mount=...` (BuildKit's syntax: comma-separated key=value, type first by habit).
struct RunMount {
  std::string type = "bind";
  std::string target, source, id, from;
  bool readonly = true;
  bool readonly_set = false;
};

// Refuses what this berthd cannot do (secret and ssh mounts, unknown keys) naming the line.
Result<RunMount> parse_run_mount(const std::string& spec, int line);

}  // namespace berth::core::build
