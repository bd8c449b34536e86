// spdlog lives in the core only: one logger per subsystem ("daemon", "api", "image", ...) and a
// "plugin.<id>" logger per driver, all writing logfmt-style lines to stderr.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::logging {

// Sets the level for every logger ("trace", "debug", "info", "warn", "error").
Status set_level(std::string_view level);

// The logger of a subsystem, created on first use.
std::shared_ptr<spdlog::logger> get(std::string_view subsystem);

}  // namespace berth::logging
