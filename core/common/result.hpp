// The core uses the SDK's Result/Error vocabulary everywhere, so errors cross from drivers to
// HTTP answers without translation.
#pragma once

#include "berth/sdk/result.hpp"

namespace berth {
using sdk::Error;
using sdk::ErrorCode;
using sdk::errno_error;
using sdk::make_error;
using sdk::Result;
using sdk::Status;
}  // namespace berth
