// The JSON messages of a pull or push as dockerd sends them and the docker CLI renders them:
// {"status":"Downloading","progressDetail":{"current":N,"total":M},"progress":"[==>  ] 1MB/2MB",
// "id":"<12 hex>"}, and the bar text made the way Docker's JSONProgress.String() makes it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::core::image {

// Docker's units.HumanSize: decimal units, 4 significant digits ("1.234MB", "512B", "2.1kB").
std::string human_size(int64_t bytes);

// "[=====>      ]  1.234MB/5.678MB" (total > 0), else the current size alone.
std::string progress_bar(int64_t current, int64_t total);

// A per-layer message without progress: {"status","progressDetail":{},"id"}.
boost::json::object layer_status(std::string_view status, std::string_view id);
// A per-layer message with progress (Downloading, Extracting, Pushing).
boost::json::object layer_progress(std::string_view status, std::string_view id, int64_t current,
                                   int64_t total);

// "sha256:abcdef0123456789..." → "abcdef012345", the id the CLI shows per layer.
std::string short_layer_id(std::string_view digest);

}  // namespace berth::core::image
