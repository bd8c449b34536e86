// The overlay storage driver: containerd's overlay snapshotter behind berth::sdk::StorageDriver.
//
// Layout under the driver's root (<data-root>/plugins/storage.overlay):
//   snapshots/<id>/fs     the snapshot's files: a committed layer, or the upper dir of an active
//   one snapshots/<id>/work   overlay's work dir (active snapshots with a parent only)
//   metadata/<id>.json    the snapshot's record (berth/sdk/storage/snapshot_records.hpp)
// <id> is a short decimal number allocated by the driver, so lower dir paths stay short (128
// layers fit a mount) and keys, which are arbitrary strings, never become paths.
//
// The driver never mounts a snapshot: it returns mount specs and the caller mounts them
// (berth/sdk/mount.hpp). The one exception is a throw-away probe mount at create(), under the
// driver's root, which is how containerd and moby find out whether overlay works on a backing
// filesystem at all.
//
// Crash safety: every transition writes or removes exactly one record atomically, and directories
// are created before their record exists and removed after it is gone. A crash therefore leaves
// at worst a directory without a record (or a committed snapshot's stale work dir), which
// cleanup() removes; it never leaves a record without its directory.
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
#include "project_quota.hpp"

namespace berth::plugins::overlay {

using sdk::storage::SnapshotRecord;

// The record-keeping is the SDK's (SnapshotDriverBase); this class holds the overlay steps.
class OverlayDriver final : public sdk::storage::SnapshotDriverBase {
 public:
  // kUnsupported (with the reason) when overlay cannot work on ctx.root_dir; kInvalidArgument for
  // a bad config.
  static sdk::Result<std::unique_ptr<OverlayDriver>> create(const sdk::InitContext& ctx);

 protected:
  sdk::Status create_data(const SnapshotRecord& record, const SnapshotRecord* parent) override;
  sdk::Status delete_data(uint64_t id) override;
  std::vector<sdk::Mount> mounts_of(const SnapshotRecord& record) const override;
  sdk::Result<sdk::Usage> measure_usage(sdk::Context& ctx, const SnapshotRecord& record) override;
  sdk::DriverInfo describe(size_t snapshots) override;
  void after_commit(const SnapshotRecord& committed) override;
  sdk::Status check_loaded(const SnapshotRecord& record) override;
  void find_leftovers(const sdk::storage::SnapshotIndex& index,
                      std::vector<std::string>& doomed) const override;
  sdk::Status remove_leftover(const std::string& path) override;

 private:
  struct HostFacts {
    std::string backing_fs;
    bool d_type = false;
    bool index_param = false;  // the overlay module has an "index" feature to turn off
    bool userxattr = false;    // in a user namespace: trusted.* xattrs are not ours to use
  };

  OverlayDriver(std::string root, Config config, HostFacts facts, sdk::Logger* log);

  std::vector<std::string> overlay_options() const;
  std::string fs_dir(uint64_t id) const { return snapshot_path(id) + "/fs"; }
  std::string work_dir(uint64_t id) const { return snapshot_path(id) + "/work"; }

  const Config config_;
  const HostFacts facts_;
  // Set when the backing filesystem is xfs with project quotas enforced: then, and only then,
  // the driver offers kSizeLimitCapability (--storage-opt size).
  std::unique_ptr<ProjectQuota> quota_;
};

}  // namespace berth::plugins::overlay
