// A stopped container's volumes and binds laid over a mount of its root filesystem, so cp and
// the archive endpoints see what the container sees (dockerd mounts them for these operations).
#pragma once

#include <string>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::container {

struct MountPoint;

// Bind-mounts every volume and bind of `mounts` (parents before children) at its destination
// under `rootfs`, read-only where the container has it so. Destinations are resolved inside
// rootfs (a symlink planted in the container cannot aim a mount outside it) and created when
// missing, as dockerd creates them. The caller unmounts everything under rootfs afterwards
// (sdk::unmount_all), also when this fails half-way.
Status mount_points_into(const std::string& rootfs, const std::vector<MountPoint>& mounts);

}  // namespace berth::core::container
