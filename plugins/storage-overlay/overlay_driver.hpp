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
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/host.hpp"
#include "berth/sdk/storage/snapshot_records.hpp"
#include "berth/sdk/storage_driver.hpp"
#include "config.hpp"

namespace berth::plugins::overlay {

using sdk::storage::SnapshotRecord;

class OverlayDriver final : public sdk::StorageDriver {
 public:
  // kUnsupported (with the reason) when overlay cannot work on ctx.root_dir; kInvalidArgument for
  // a bad config.
  static sdk::Result<std::unique_ptr<OverlayDriver>> create(const sdk::InitContext& ctx);

  sdk::DriverInfo info() override;
  sdk::Result<std::vector<sdk::Mount>> prepare(sdk::Context& ctx, std::string_view key,
                                               std::string_view parent,
                                               const sdk::Labels& labels) override;
  sdk::Result<std::vector<sdk::Mount>> view(sdk::Context& ctx, std::string_view key,
                                            std::string_view parent,
                                            const sdk::Labels& labels) override;
  sdk::Result<std::vector<sdk::Mount>> mounts(sdk::Context& ctx, std::string_view key) override;
  sdk::Status commit(sdk::Context& ctx, std::string_view name, std::string_view key,
                     const sdk::Labels& labels) override;
  sdk::Status remove(sdk::Context& ctx, std::string_view key) override;
  sdk::Result<sdk::SnapshotInfo> stat(sdk::Context& ctx, std::string_view key) override;
  sdk::Result<sdk::SnapshotInfo> update_labels(sdk::Context& ctx, std::string_view key,
                                               const sdk::Labels& labels) override;
  sdk::Result<sdk::Usage> usage(sdk::Context& ctx, std::string_view key) override;
  sdk::Result<std::vector<sdk::SnapshotInfo>> walk(sdk::Context& ctx,
                                                   const sdk::WalkFilter& filter) override;
  sdk::Status cleanup(sdk::Context& ctx) override;

 private:
  struct HostFacts {
    std::string backing_fs;
    bool d_type = false;
    bool index_param = false;  // the overlay module has an "index" feature to turn off
    bool userxattr = false;    // in a user namespace: trusted.* xattrs are not ours to use
  };

  OverlayDriver(std::string root, Config config, HostFacts facts, sdk::Logger* log);

  sdk::Status load();
  sdk::Result<std::vector<sdk::Mount>> create_snapshot(sdk::SnapshotKind kind, std::string_view key,
                                                       std::string_view parent,
                                                       const sdk::Labels& labels);
  // The following need mu_ held.
  const SnapshotRecord* find(std::string_view key) const;
  std::vector<sdk::Mount> mounts_of(const SnapshotRecord& record) const;
  std::vector<std::string> overlay_options() const;

  std::string snapshot_dir(uint64_t id) const;
  std::string fs_dir(uint64_t id) const { return snapshot_dir(id) + "/fs"; }
  std::string work_dir(uint64_t id) const { return snapshot_dir(id) + "/work"; }

  void log(sdk::LogLevel level, std::string_view message,
           std::initializer_list<sdk::Field> fields = {}) const;

  const std::string root_;
  const std::string snapshots_root_;
  const Config config_;
  const HostFacts facts_;
  sdk::Logger* const log_;
  sdk::storage::SnapshotRecordStore store_;

  mutable std::mutex mu_;
  sdk::storage::SnapshotIndex by_name_;  // key or name -> record
  uint64_t next_id_ = 1;  // ids are never reused while the process runs
};

}  // namespace berth::plugins::overlay
