// Copies a directory tree between two directory fds the way a volume copy-up needs it: owners,
// permission bits (setuid/setgid/sticky included), times, portable xattrs, symlinks as links,
// hard links as links, devices and fifos. Nothing is ever looked up through a symlink, on
// either side.
#pragma once

#include "core/common/result.hpp"

namespace berth::core::volume {

// Copies the contents of directory `src_fd` into directory `dst_fd` (which should be empty:
// an existing name is an error). Both may be O_PATH.
Status copy_tree(int src_fd, int dst_fd);

// Gives directory `dst_fd` the owner and permission bits of `src_fd` (dockerd's copyOwnership
// of the volume root after a copy-up).
Status copy_owner_and_mode(int src_fd, int dst_fd);

}  // namespace berth::core::volume
