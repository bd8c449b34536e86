// The mount side of the local driver's options (type, device, o), read the way dockerd's
// mount.Mount reads them: known words of "o" become MS_* flags, propagation words are applied
// by a second mount(2), and everything else is the filesystem's data string ("size=10m").
#pragma once

#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::core::volume {

struct MountOptions {
  unsigned long flags = 0;        // MS_* except propagation
  unsigned long propagation = 0;  // MS_SHARED/PRIVATE/SLAVE/UNBINDABLE, maybe with MS_REC
  std::string data;               // comma-separated, in the order given
};

MountOptions parse_mount_options(std::string_view o);

// mount(2) of `device` on `target` with filesystem `type` and options `o`; a read-only bind is
// remounted read-only (a bind mount ignores MS_RDONLY at first).
Status mount_filesystem(const std::string& device, const std::string& target,
                        const std::string& type, const std::string& o);

// Detaches what is mounted on `target`; not mounted is success.
Status unmount_filesystem(const std::string& target);

// Whether `path` is the mount point of a mount in this mount namespace (/proc/self/mountinfo).
bool is_mount_point(const std::string& path);

}  // namespace berth::core::volume
