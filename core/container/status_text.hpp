// The human strings dockerd produces and the docker CLI prints verbatim: "Up 5 seconds",
// "Exited (137) 10 seconds ago", "Created", ...
#pragma once

#include <cstdint>
#include <string>

#include "core/container/container.hpp"

namespace berth::core::container {

// Docker's units.HumanDuration.
std::string human_duration(int64_t nanos);

// Docker's State.String() at `now` (unix nano).
std::string status_text(const ContainerState& s, int64_t now);

}  // namespace berth::core::container
