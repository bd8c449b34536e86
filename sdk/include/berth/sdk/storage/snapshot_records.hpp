// Persistent snapshot metadata for storage drivers that follow containerd's snapshot model (the
// role containerd's snapshots/storage plays for its snapshotters).
//
// One small JSON file per snapshot, <dir>/<id>.json, named by the snapshot's numeric id (never by
// its key: keys are arbitrary strings such as "sha256:..." or "a/b"). Every transition of the
// model touches exactly one snapshot: prepare/view create its file, commit and update_labels
// replace it (the id, and with it the driver's directory or subvolume for it, survives a commit),
// remove unlinks it. Each is one atomic rename or unlink, so a crash leaves every record either
// old or new, the cost of a transition does not grow with the number of snapshots, and a damaged
// file costs one record, not an index. Drivers rebuild their in-memory maps from load_all().
//
// Records carry "driver": <name>, so one driver never reads another's records, even if someone
// copies a metadata directory across.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk::storage {

struct SnapshotRecord {
  uint64_t id = 0;
  SnapshotInfo info;  // info.name: the key (active, view) or the name (committed)
};

class SnapshotRecordStore {
 public:
  // `driver` is written into every record and checked on every read. A record without the field
  // is accepted only when `accept_unnamed_records` (the overlay driver wrote none before it had
  // a sibling driver); any other driver's record is refused.
  SnapshotRecordStore(std::string dir, std::string driver, bool accept_unnamed_records = false)
      : dir_(std::move(dir)), driver_(std::move(driver)), accept_unnamed_(accept_unnamed_records) {}

  // Every record, ordered by id. Temp files of an interrupted write (fs::atomic_write's, and the
  // older "<id>.json.tmp") are
  // removed, other foreign files ignored; a record that cannot be read fails the load, naming the
  // file (it is the only copy of that snapshot's identity: better stop than forget a layer).
  [[nodiscard]] Result<std::vector<SnapshotRecord>> load_all() const;
  // Creates or replaces the record of `record.id` atomically and durably.
  [[nodiscard]] Status save(const SnapshotRecord& record) const;
  // Removes the record of `id` durably; a missing record is fine.
  [[nodiscard]] Status erase(uint64_t id) const;

  [[nodiscard]] const std::string& dir() const { return dir_; }

  [[nodiscard]] std::string encode(const SnapshotRecord& record) const;
  // `source` names the file in errors.
  [[nodiscard]] Result<SnapshotRecord> decode(std::string_view json, std::string_view source) const;

 private:
  std::string dir_;
  std::string driver_;
  bool accept_unnamed_;
};

// A driver's in-memory index of its records: key (active, view) or name (committed) -> record.
// Drivers guard it with their own mutex, held around each call below.
using SnapshotIndex = std::map<std::string, SnapshotRecord, std::less<>>;

// The record of `key`, or nullptr.
const SnapshotRecord* find_snapshot(const SnapshotIndex& index, std::string_view key);
// How many snapshots have `name` as their parent; the first one's key in `first_child`.
size_t count_children(const SnapshotIndex& index, std::string_view name, std::string* first_child);
// StorageDriver::walk over the index: the filter applied, in creation (id) order, so parents
// come before their children.
std::vector<SnapshotInfo> walk_snapshots(const SnapshotIndex& index, const WalkFilter& filter);
// StorageDriver::update_labels: replaces the labels of `key`, saves the record, then the index.
// updated_unix_nano moves strictly forward even if the clock did not.
Result<SnapshotInfo> update_snapshot_labels(SnapshotIndex& index, const SnapshotRecordStore& store,
                                            std::string_view key, const Labels& labels);

// The checks and the record of StorageDriver::prepare/view: the key is new, a parent exists and
// is committed (Docker's wording for each refusal). The record takes `next_id`, which moves on
// only then; `parent_record` (may be null) points into `index`. The caller makes the data, then
// saves the record and adds it to the index.
struct NewSnapshot {
  SnapshotRecord record;
  const SnapshotRecord* parent_record = nullptr;
};
Result<NewSnapshot> plan_snapshot(const SnapshotIndex& index, uint64_t& next_id,
                                  SnapshotKind kind, std::string_view key,
                                  std::string_view parent, const Labels& labels);

// The checks and the record of StorageDriver::commit: `key` is an active snapshot and `name` is
// free. The committed record keeps the active one's id (its data stays where it is); the caller
// saves it, then replaces the active entry of the index with it.
Result<SnapshotRecord> plan_commit(const SnapshotIndex& index, std::string_view name,
                                   std::string_view key, const Labels& labels);

// The first half of StorageDriver::remove: refuses a snapshot with children (kFailedPrecondition,
// naming one), then erases its record and index entry, record first (once the record is gone,
// so is the snapshot). Returns its id; the caller deletes its data (outside its lock: the id is
// never handed out again, and what a failure leaves is an orphan its cleanup() finds).
Result<uint64_t> forget_snapshot(SnapshotIndex& index, const SnapshotRecordStore& store,
                                 std::string_view key);

// "snapshot <key> does not exist" (kNotFound), the answer to every operation on an unknown key.
Error snapshot_not_found(std::string_view key);
// Wall-clock time for SnapshotInfo's created/updated fields.
int64_t now_unix_nano();

}  // namespace berth::sdk::storage
