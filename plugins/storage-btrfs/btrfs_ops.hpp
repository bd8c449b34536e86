// The btrfs operations the driver needs, through libbtrfsutil and, where libbtrfsutil has no call
// (qgroup figures, per-subvolume change accounting), the btrfs tree-search ioctl. Nothing here runs
// the btrfs tool. Every function returns an error naming the path and the kernel's reason.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "berth/sdk/result.hpp"

namespace berth::plugins::btrfs {

// A new, empty subvolume at `path` (its parent directory must exist and be on btrfs).
sdk::Status create_subvolume(const std::string& path);
// A snapshot of subvolume `source` at `path`: writable, or read-only from the first instant.
sdk::Status create_snapshot(const std::string& source, const std::string& path, bool read_only);
// Deletes the subvolume at `path`, read-only or not, with everything in it.
sdk::Status delete_subvolume(const std::string& path);
// Whether `path` is the root of a subvolume (false for a plain directory).
sdk::Result<bool> is_subvolume(const std::string& path);
sdk::Result<bool> is_read_only(const std::string& path);
sdk::Status set_read_only(const std::string& path, bool read_only);

struct SubvolumeInfo {
  uint64_t id = 0;        // the subvolume's tree id (its qgroup is 0/id)
  uint64_t otransid = 0;  // the transaction that created it (a snapshot's contents date from it)
};
sdk::Result<SubvolumeInfo> subvolume_info(const std::string& path);

// Flushes dirty data and commits the transaction of the filesystem holding `path`, so extent
// items and qgroup figures are current.
sdk::Status sync_filesystem(const std::string& path);

struct QuotaStatus {
  bool enabled = false;
  bool simple = false;      // simple quotas (squota, Linux >= 6.7): extents charged to their owner
  bool rescanning = false;  // numbers not complete yet
  bool inconsistent = false;  // numbers known to be wrong until a rescan
  [[nodiscard]] bool usable() const { return enabled && !rescanning && !inconsistent; }
  [[nodiscard]] std::string describe() const;  // "enabled", "disabled", "enabled (rescanning)"...
};
// Quota state of the filesystem holding `path` (needs CAP_SYS_ADMIN, as the tree search does).
sdk::Result<QuotaStatus> quota_status(const std::string& path);
// Turns quotas on for the filesystem holding `path` (a no-op when they are on). The kernel then
// makes a qgroup for every subvolume and rescans in the background; limits apply at once.
sdk::Status enable_quota(const std::string& path);
// Caps what the subvolume at `path` may reference (its qgroup 0/<id>'s max_rfer), as dockerd's
// btrfs driver does for --storage-opt size: writes past it fail with EDQUOT.
sdk::Status limit_subvolume(const std::string& path, uint64_t max_referenced_bytes);
// The exclusive bytes of qgroup 0/<subvolume_id>: what removing the subvolume would free.
// kNotFound when the qgroup does not exist.
sdk::Result<int64_t> qgroup_exclusive(const std::string& path, uint64_t subvolume_id);

// What a subvolume's own tree holds that is newer than transaction `after` (0: everything):
// inode items touched after it, and the bytes of file extents written after it (regular and
// preallocated extents count the bytes they reference, compressed ones their size on disk,
// inline ones their inline bytes; holes nothing). For a snapshot taken at transaction T, with
// after = T, that is exactly what was written into the snapshot since: what it shares with the
// subvolume it was taken from is older. Unchanged parts of the tree are skipped by the search
// (leaves older than `after` are not even read). `cancelled` is polled between ioctls.
struct TreeUsage {
  int64_t bytes = 0;
  int64_t inodes = 0;
};
sdk::Result<TreeUsage> tree_usage(const std::string& subvolume_path, uint64_t after,
                                  const std::function<bool()>& cancelled = {});

}  // namespace berth::plugins::btrfs
