// Owning file descriptor for the isolation backend (plugin and monitor alike): the SDK's. Every
// fd this backend opens lives in one, so a failure half way through a setup step leaks nothing
// into the container or the daemon.
#pragma once

#include "berth/sdk/unique_fd.hpp"

namespace berth::plugins::isolation {

using UniqueFd = sdk::UniqueFd;

}  // namespace berth::plugins::isolation
