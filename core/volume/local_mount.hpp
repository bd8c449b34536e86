// The mount side of the local driver's options (type, device, o), read the way dockerd's
// mount.Mount reads them: known words of "o" become MS_* flags, propagation words are applied
// by a second mount(2), and everything else is the filesystem's data string ("size=10m").
#pragma once

#include <string>
#include <string_view>

#include "berth/sdk/mount_options.hpp"
#include "core/common/result.hpp"

namespace berth::core::volume {

// The option words are read by the SDK's one table (berth/sdk/mount_options.hpp).
using sdk::MountOptions;
using sdk::parse_mount_options;

// mount(2) of `device` on `target` with filesystem `type` and options `o`; a read-only bind is
// remounted read-only (a bind mount ignores MS_RDONLY at first).
Status mount_filesystem(const std::string& device, const std::string& target,
                        const std::string& type, const std::string& o);

// Detaches what is mounted on `target`; not mounted is success.
Status unmount_filesystem(const std::string& target);

// Whether `path` is the mount point of a mount in this mount namespace (/proc/self/mountinfo).
bool is_mount_point(const std::string& path);

}  // namespace berth::core::volume
