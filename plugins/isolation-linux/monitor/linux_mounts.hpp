// The container's filesystem view, built inside its new mount namespace (crun's linux.c part):
// root propagation, the rootfs from the storage driver's mounts, the OCI mounts in order (every
// destination resolved inside the rootfs with openat2(RESOLVE_IN_ROOT), so a symlink in the image
// can never send a mount outside it), /dev's nodes and symlinks, /dev/init, pivot_root; then,
// after the pivot, read-only paths, masked paths and a read-only root.
#pragma once

#include <string>
#include <vector>

#include "berth/sdk/result.hpp"
#include "common/create_config.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

// What must be done while still privileged on the host, in the container's mount namespace
// (with a user namespace: a namespace of the setup stage that the container's copies): root
// propagation, the rootfs mounted at <bundle>/rootfs, and detached copies (open_tree) of every
// bind mount's source and of berth-init. Inside a user namespace, host paths (a root-only
// bundle, a 0700 data directory) may be out of reach; the copies are not, and being detached they
// can be attached in the namespace the container ends up in (runc 1.2 does the same).
struct PreparedRoot {
  std::string path;
  UniqueFd root;                       // the rootfs, O_PATH (this namespace)
  UniqueFd tree;                       // with `detach`: a detached copy of the rootfs; attached
                                       // on the current directory, which the caller points at
                                       // the rootfs before unsharing the final mount namespace
  std::vector<UniqueFd> bind_sources;  // by index in spec.mounts; empty fds for other types
  UniqueFd init;
};
// idmap_userns >= 0: the rootfs is reached through an idmapped mount with that namespace's maps
// (monitor/idmapped_rootfs.hpp).
sdk::Result<PreparedRoot> prepare_rootfs(const CreateConfig& config, bool detach,
                                         int idmap_userns = -1);

// The OCI mounts in order, /dev, /dev/init, then pivot_root: on return the process's root is
// the rootfs.
sdk::Status finish_rootfs(const CreateConfig& config, PreparedRoot& prepared);

// After pivot_root: runc's order is read-only paths, then masked paths, then the read-only root.
sdk::Status apply_readonly_paths(const std::vector<std::string>& paths);
sdk::Status apply_masked_paths(const std::vector<std::string>& paths);
sdk::Status make_root_readonly();
// "shared"/"rshared"/"unbindable" root propagation, which cannot hold before pivot_root.
sdk::Status finish_root_propagation(const std::string& propagation);

// Opens `path` (absolute, inside the root `root_fd`) as O_PATH with RESOLVE_IN_ROOT, creating
// missing components on the way: directories, and for the last one an empty file when
// `directory` is false.
sdk::Result<UniqueFd> open_in_root(int root_fd, const std::string& path, bool create,
                                   bool directory);

}  // namespace berth::plugins::isolation
