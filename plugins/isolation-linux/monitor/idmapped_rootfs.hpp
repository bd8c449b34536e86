// The root filesystem of a container with a user namespace, seen through an idmapped mount
// (Linux >= 5.19 for overlay layers): the image's files, owned by the host's root on disk, are
// the container root's, whatever host ids its user namespace maps to. Asked for by the core with the annotation
// "org.berth.idmap-rootfs" (its --userns-remap); without it a rootfs is mounted as it is, as
// runc does.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage_driver.hpp"
#include "common/oci_spec.hpp"
#include "common/unique_fd.hpp"

namespace berth::plugins::isolation {

inline constexpr const char* kIdmapRootfsAnnotation = "org.berth.idmap-rootfs";

// A user namespace with these maps, held only by the returned fd: a short-lived child creates
// it and this process (privileged in the parent namespace) writes its maps.
sdk::Result<UniqueFd> make_mapping_userns(const std::vector<IdMapping>& uids,
                                          const std::vector<IdMapping>& gids);

// `mounts` (overlays only) rewritten to reach their lower layers through one idmapped mount of
// the directory that holds them all, attached at `staging` in the current mount namespace. An overlay's upper directory is not idmapped (the
// container's writes land there with its host ids, as under dockerd's remapping); its root is
// given to the container's root, root_uid:root_gid on the host.
sdk::Result<std::vector<sdk::Mount>> idmap_rootfs_mounts(const std::vector<sdk::Mount>& mounts,
                                                        int userns_fd, const std::string& staging,
                                                        uid_t root_uid, gid_t root_gid);

}  // namespace berth::plugins::isolation
