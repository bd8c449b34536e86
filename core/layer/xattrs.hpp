// Extended attributes of tree entries, read and written without following a final symlink.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::layer {

// (name, value) pairs sorted by name.
using Xattrs = std::vector<std::pair<std::string, std::string>>;

// Attributes of an open (not O_PATH) file or directory.
Result<Xattrs> read_xattrs_fd(int fd);
// Attributes of `name` in dirfd itself (a symlink's own, never its target's).
Result<Xattrs> read_xattrs_at(int dirfd, std::string_view name);

Status set_xattr_fd(int fd, const std::string& key, const std::string& value);
Status set_xattr_at(int dirfd, std::string_view name, const std::string& key,
                    const std::string& value);

// Whether an attribute belongs in a layer or archive: overlayfs' own bookkeeping
// (trusted.overlay.*, user.overlay.*), SELinux labels and ACLs (system.*) describe the host's
// storage, not the image, and are left out, as dockerd leaves them out.
bool is_portable_xattr(std::string_view key);

// Keeps only the portable attributes.
Xattrs portable(Xattrs xattrs);

}  // namespace berth::core::layer
