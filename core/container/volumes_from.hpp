// --volumes-from (HostConfig.VolumesFrom), the pure part: an entry's syntax, and which mounts of
// the source container the new one gets and how. The lookup of the source is the manager's.
#pragma once

#include <string>
#include <vector>

#include "core/common/result.hpp"
#include "core/container/container.hpp"

namespace berth::core::container {

// One entry, "container[:mode]" (dockerd's ParseVolumesFrom): mode is rw (the default) or ro,
// with the SELinux labels z/Z; propagation and copy modes are refused ("invalid mode: ...").
struct VolumesFromSpec {
  std::string container;
  bool read_only = false;
};
Result<VolumesFromSpec> parse_volumes_from(const std::string& spec);

// The mounts a container inherits from another: its binds and volumes at the same sources and
// destinations, read-only when the source's is or `read_only` asks it, never filled from the
// image (dockerd's CopyData false).
std::vector<MountPoint> inherit_mounts(const std::vector<MountPoint>& source, bool read_only);

}  // namespace berth::core::container
