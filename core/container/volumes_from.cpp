#include "core/container/volumes_from.hpp"

namespace berth::core::container {

Result<VolumesFromSpec> parse_volumes_from(const std::string& spec) {
  if (spec.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "volumes-from specification cannot be an empty string");
  }
  VolumesFromSpec out;
  auto colon = spec.find(':');
  out.container = spec.substr(0, colon);
  if (colon == std::string::npos || colon + 1 == spec.size()) return out;
  // dockerd takes rw/ro and the SELinux labels; propagation and copy modes are refused.
  std::string mode = spec.substr(colon + 1);
  int rw_modes = 0;
  size_t pos = 0;
  while (pos <= mode.size()) {
    size_t comma = mode.find(',', pos);
    if (comma == std::string::npos) comma = mode.size();
    std::string opt = mode.substr(pos, comma - pos);
    pos = comma + 1;
    if (opt == "ro" || opt == "rw") {
      ++rw_modes;
      out.read_only = opt == "ro";
    } else if (opt != "z" && opt != "Z") {
      return make_error(ErrorCode::kInvalidArgument, "invalid mode: " + mode);
    }
  }
  if (rw_modes > 1) return make_error(ErrorCode::kInvalidArgument, "invalid mode: " + mode);
  return out;
}

std::vector<MountPoint> inherit_mounts(const std::vector<MountPoint>& source, bool read_only) {
  std::vector<MountPoint> out;
  for (const auto& m : source) {
    if (m.type != "bind" && m.type != "volume") continue;
    MountPoint copy = m;
    copy.rw = m.rw && !read_only;
    copy.copy_image_data = false;
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace berth::core::container
