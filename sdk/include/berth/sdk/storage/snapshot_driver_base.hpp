// The record-keeping half of a storage driver that follows containerd's snapshot model: the mutex,
// the in-memory index, the record store (snapshot_records.hpp), and the bookkeeping of every
// StorageDriver call (checks, ids, find/stat/walk/update_labels/remove, crash-safe ordering,
// cleanup of orphans). A driver derives from it and implements only its filesystem steps:
// making and deleting a snapshot's data, the mounts of a snapshot, and measuring its usage.
//
// Layout under the driver's root: snapshots/<id> (the driver's data for snapshot <id>: a
// directory, a subvolume, ...) and metadata/<id>.json (its record). <id> is a decimal number
// allocated here, so keys, which are arbitrary strings, never become paths.
//
// Crash safety: data is made before its record is saved and deleted after the record is gone, so
// a crash leaves at worst data without a record, which cleanup() deletes; never a record without
// its data. Every transition saves or erases exactly one record atomically.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/storage/snapshot_records.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk::storage {

class SnapshotDriverBase : public StorageDriver {
 public:
  // The snapshot model, implemented once. final: a driver customises the steps below instead.
  DriverInfo info() final;
  Result<std::vector<Mount>> prepare(Context& ctx, std::string_view key, std::string_view parent,
                                     const Labels& labels) final;
  Result<std::vector<Mount>> view(Context& ctx, std::string_view key, std::string_view parent,
                                  const Labels& labels) final;
  Result<std::vector<Mount>> mounts(Context& ctx, std::string_view key) final;
  Status commit(Context& ctx, std::string_view name, std::string_view key,
                const Labels& labels) final;
  Status remove(Context& ctx, std::string_view key) final;
  Result<SnapshotInfo> stat(Context& ctx, std::string_view key) final;
  Result<SnapshotInfo> update_labels(Context& ctx, std::string_view key,
                                     const Labels& labels) final;
  Result<Usage> usage(Context& ctx, std::string_view key) final;
  Result<std::vector<SnapshotInfo>> walk(Context& ctx, const WalkFilter& filter) final;
  Status cleanup(Context& ctx) final;

 protected:
  // `root`: the driver's directory (absolute, no trailing '/'); `driver_name` goes into every
  // record (see SnapshotRecordStore).
  SnapshotDriverBase(std::string root, std::string driver_name, Logger* log,
                     bool accept_unnamed_records = false);

  // Creates snapshots/ and metadata/ and loads the records: call once from the driver's create()
  // after its own checks. Fails when the records do not form a forest of committed parents.
  Status open();

  // The cap a prepare() asked for through kSnapshotSizeLabel (bytes), if any; kInvalidArgument
  // when the label is not a positive decimal number. For drivers with kSizeLimitCapability.
  static Result<std::optional<uint64_t>> size_limit_of(const SnapshotRecord& record);

  // ---- the filesystem steps ------------------------------------------------------------------
  // Called with the lock held unless said otherwise; `find()` may be used from them.

  // Makes the data of a new snapshot at snapshot_path(record.id): an empty one without parent,
  // else a child of `parent` (writable for kActive, read-only for kView). On failure it leaves
  // nothing behind.
  virtual Status create_data(const SnapshotRecord& record, const SnapshotRecord* parent) = 0;
  // Deletes the data of snapshot `id` (without the lock: a big layer takes a while). Also used
  // to undo create_data when its record cannot be saved.
  virtual Status delete_data(uint64_t id) = 0;
  // The mounts of an active snapshot or a view.
  virtual std::vector<Mount> mounts_of(const SnapshotRecord& record) const = 0;
  // Bytes and inodes of the snapshot's own data (without the lock; `record` is a copy).
  virtual Result<Usage> measure_usage(Context& ctx, const SnapshotRecord& record) = 0;
  // The driver's name, capabilities and status lines ("Backing Filesystem", ...), without the
  // lock; `snapshots` is how many there are.
  virtual DriverInfo describe(size_t snapshots) = 0;

  // Optional steps.
  // Before the committed record is saved: btrfs makes the subvolume read-only here. If the save
  // then fails, undo_freeze() is called.
  virtual Status freeze_for_commit(const SnapshotRecord& /*committed*/) { return {}; }
  virtual void undo_freeze(const SnapshotRecord& /*committed*/) {}
  // After a commit, without the lock (overlay drops the work dir). Errors are the driver's to log.
  virtual void after_commit(const SnapshotRecord& /*committed*/) {}
  // At open(), for each loaded record (a missing directory to log, a read-only flag to fix).
  virtual Status check_loaded(const SnapshotRecord& /*record*/) { return {}; }
  // Extra leftovers for cleanup() (with the lock held; `index` is every snapshot), e.g. a
  // committed snapshot's stale work dir. Orphans in snapshots/ and "probe-*" scratch entries in
  // the root are found by the base.
  virtual void find_leftovers(const SnapshotIndex& /*index*/,
                              std::vector<std::string>& /*doomed*/) const {}
  // Removes one leftover path found by cleanup(), without the lock.
  virtual Status remove_leftover(const std::string& path) = 0;

  // ---- for the steps -------------------------------------------------------------------------
  // The record of `key`, or nullptr; needs the lock (the steps above that run with it may call it).
  const SnapshotRecord* find(std::string_view key) const;
  std::string snapshot_path(uint64_t id) const;
  const std::string& root() const { return root_; }
  const std::string& snapshots_root() const { return snapshots_root_; }
  void log(LogLevel level, std::string_view message,
           std::initializer_list<Field> fields = {}) const;

 private:
  Status load();
  Result<std::vector<Mount>> create_snapshot(SnapshotKind kind, std::string_view key,
                                             std::string_view parent, const Labels& labels);

  const std::string root_;
  const std::string snapshots_root_;
  Logger* const log_;
  SnapshotRecordStore store_;

  mutable std::mutex mu_;
  SnapshotIndex by_name_;  // key or name -> record
  uint64_t next_id_ = 1;   // ids are never reused while the process runs
};

}  // namespace berth::sdk::storage
