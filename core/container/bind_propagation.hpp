// Whether a bind asking for shared or slave propagation can get it: a bind only propagates what
// its source's mount propagates. dockerd refuses such a bind at start (ensureShared /
// ensureSharedOrSlave in its spec code); so does berthd, with its message. Pure: the caller
// hands over /proc/self/mountinfo.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::container {

struct MountPoint;

struct SourceMount {
  std::string mount_point;  // where the mount holding the path is mounted
  bool shared = false;      // "shared:N" among its optional fields
  bool slave = false;       // "master:N"
};

// The mount that holds `path` (an absolute, resolved path): the longest mount point that is a
// prefix of it, the last one mounted when several sit at the same place.
std::optional<SourceMount> source_mount(std::string_view mountinfo, std::string_view path);

// A bind asking for (r)shared or (r)slave propagation.
bool propagates(const MountPoint& m);

// Every bind with (r)shared needs a shared source mount, every (r)slave a shared or slave one
// (sources are resolved through their symlinks first).
Status check_bind_propagation(const std::vector<MountPoint>& mounts, std::string_view mountinfo);

}  // namespace berth::core::container
