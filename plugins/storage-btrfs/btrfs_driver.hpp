// The btrfs storage driver: containerd's snapshot model on btrfs subvolumes, behind
// berth::sdk::StorageDriver (the layout of moby's and containerd's btrfs drivers).
//
// Layout under the driver's root (<data-root>/plugins/storage.btrfs, which must be on btrfs):
//   snapshots/<id>        one subvolume per snapshot:
//                           active     a writable snapshot of its parent's subvolume (a new
//                                      empty subvolume without parent)
//                           view       a read-only snapshot of its parent (an empty read-only
//                                      subvolume without parent)
//                           committed  the active snapshot's own subvolume, made read-only
//   metadata/<id>.json    the snapshot's record (berth/sdk/storage/snapshot_records.hpp)
// <id> is a decimal number allocated by the driver, so keys, which are arbitrary strings, never
// become paths. A commit moves no data: the subvolume keeps its id and becomes read-only.
//
// Mounts: every snapshot is one bind mount of its subvolume directory, {"type":"bind","source":
// <root>/snapshots/<id>,"options":["rbind","rw"|"ro"]}. The core applies layers straight into
// it (no mount at all) and the isolation backend bind-mounts it as the container's root. The
// driver never mounts anything itself.
//
// Usage: bytes come from the subvolume's qgroup ("exclusive") when quotas are enabled and
// consistent (config "usage-source"), otherwise they are measured from the subvolume's own btrfs
// tree: the file extents written since the snapshot was taken (btrfs_ops.hpp tree_usage). Inodes
// are always measured that way (qgroups do not count inodes). Both exclude what a snapshot shares
// with its parent.
//
// Crash safety: every transition writes or removes exactly one record atomically. Subvolumes are
// created before their record exists and deleted after it is gone, so a crash leaves at worst a
// subvolume without a record, which cleanup() deletes; never a record without its subvolume. A
// commit makes the subvolume read-only before it rewrites the record: a crash in between leaves an
// active record on a read-only subvolume, which the next start makes writable again (the commit
// never happened); start-up likewise makes every committed and view subvolume read-only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/host.hpp"
#include "berth/sdk/storage/snapshot_driver_base.hpp"
#include "berth/sdk/storage_driver.hpp"
#include "config.hpp"

namespace berth::plugins::btrfs {

using sdk::storage::SnapshotRecord;

// The record-keeping is the SDK's (SnapshotDriverBase); this class holds the btrfs steps.
class BtrfsDriver final : public sdk::storage::SnapshotDriverBase {
 public:
  // kUnsupported (with the reason and the fix) when the root is not on btrfs or btrfs subvolumes
  // cannot be managed there; kInvalidArgument for a bad config.
  static sdk::Result<std::unique_ptr<BtrfsDriver>> create(const sdk::InitContext& ctx);

 protected:
  sdk::Status create_data(const SnapshotRecord& record, const SnapshotRecord* parent) override;
  sdk::Status delete_data(uint64_t id) override;
  std::vector<sdk::Mount> mounts_of(const SnapshotRecord& record) const override;
  sdk::Result<sdk::Usage> measure_usage(sdk::Context& ctx, const SnapshotRecord& record) override;
  sdk::DriverInfo describe(size_t snapshots) override;
  sdk::Status freeze_for_commit(const SnapshotRecord& committed) override;
  void undo_freeze(const SnapshotRecord& committed) override;
  sdk::Status check_loaded(const SnapshotRecord& record) override;
  sdk::Status remove_leftover(const std::string& path) override;

 private:
  BtrfsDriver(std::string root, Config config, sdk::Logger* log);
  sdk::Status create_subvolume_for(const SnapshotRecord& record, const SnapshotRecord* parent);
  sdk::Status apply_size_limit(const SnapshotRecord& record);

  const Config config_;
};

}  // namespace berth::plugins::btrfs
