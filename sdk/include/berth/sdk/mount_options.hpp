// The one table of mount(8) option words (flags such as "nosuid", propagation such as "rslave",
// everything else filesystem data), used by the SDK's mount_all, the isolation backend's OCI
// mounts and the core's local volume driver, so an option means the same thing everywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::sdk {

struct MountOptions {
  unsigned long flags = 0;        // MS_* flags, including MS_BIND and MS_REC for "bind"/"rbind"
  unsigned long propagation = 0;  // MS_PRIVATE, MS_SHARED, ... (| MS_REC for the r* forms)
  std::vector<std::string> data;  // filesystem options, in their original order
  [[nodiscard]] bool bind() const;
  [[nodiscard]] bool recursive_bind() const;
  // The filesystem options joined with ',' (mount(2)'s data argument).
  [[nodiscard]] std::string data_string() const;
};

// Parses option words in order (a later word wins over an earlier one: "ro,rw" is read-write).
// Empty words are skipped.
MountOptions parse_mount_options(const std::vector<std::string>& words);
// The same for a comma-separated list ("o=" of a volume, fstab style).
MountOptions parse_mount_options(std::string_view comma_separated);

}  // namespace berth::sdk
