// The system commands' factories, split by verb group: system_info.cpp (version, info);
// system.cpp (events, system df, system prune) registers them all.
#pragma once

#include <memory>

#include "cli/app/command.hpp"

namespace berth::cli {

std::unique_ptr<Command> make_version();
std::unique_ptr<Command> make_info();

}  // namespace berth::cli
