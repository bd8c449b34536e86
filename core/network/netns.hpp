// Named network namespaces as files (what `ip netns add` and moby's sandboxes do): a new
// namespace bind-mounted on a file, so it outlives every process in it and the isolation
// backend joins it by path from the OCI spec.
#pragma once

#include <string>

#include "core/common/result.hpp"

namespace berth::core::network {

// Creates a new network namespace held by a bind mount on `path` (created empty), loopback up.
Status create_netns(const std::string& path);
// Unmounts and unlinks; a missing path is fine.
Status remove_netns(const std::string& path);

}  // namespace berth::core::network
