// The kernel features berthd uses from newer kernels, probed once at startup. Each one either has
// a fallback (logged, with what is lost) or is required (startup refused naming the kernel it
// needs). README "Kernel floor" lists the same table.
//
//   openat2 RESOLVE_IN_ROOT   5.6   required: layers and `cp` resolve paths inside the rootfs
//   mount_setattr             5.12  idmapped mounts (userns-remap) and recursive read-only binds
//   fsopen/fsconfig           5.2   the new mount API (overlay with many layers)
//   overlay "lowerdir+"       6.8   fallback: relative lowerdir paths, fewer layers per mount
#pragma once

#include <string>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::kernel {

struct Feature {
  std::string name;     // "openat2 RESOLVE_IN_ROOT"
  std::string since;    // "5.6"
  bool present = false;
  bool required = false;
  std::string without;  // what berthd does (or cannot do) when it is missing
};

// Probes this kernel (cheap syscalls on "/"; no mount is made).
std::vector<Feature> probe();

// Refuses when a required feature is missing, naming it and the kernel it needs; `release` is
// uname -r. Pure: unit-tested.
Status check_floor(const std::vector<Feature>& features, const std::string& release);

// One line per missing optional feature, for the log.
std::vector<std::string> fallback_notes(const std::vector<Feature>& features);

}  // namespace berth::core::kernel
