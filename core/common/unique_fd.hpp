// Owning file descriptor: the SDK's, so the core and the drivers use one type.
#pragma once

#include "berth/sdk/unique_fd.hpp"

namespace berth {

using UniqueFd = sdk::UniqueFd;

}  // namespace berth
