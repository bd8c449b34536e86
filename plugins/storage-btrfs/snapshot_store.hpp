// Persistent snapshot metadata of the btrfs driver.
//
// One small JSON file per snapshot, <root>/metadata/<id>.json, named by the snapshot's numeric id
// (never by its key: keys are arbitrary strings such as "sha256:..." or "a/b"). Every transition
// of the snapshot model touches exactly one snapshot: prepare/view create its file, commit and
// update_labels replace it (the id, and with it the subvolume <root>/snapshots/<id>, survives a
// commit), remove unlinks it. Each is one atomic rename or unlink, so a crash leaves every record
// either old or new. The in-memory maps are rebuilt from the files at start-up.
//
// The records carry "driver": "btrfs", so a record is never mistaken for another driver's even if
// someone copies a metadata directory across.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/result.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::plugins::btrfs {

struct SnapshotRecord {
  uint64_t id = 0;
  sdk::SnapshotInfo info;  // info.name: the key (active, view) or the name (committed)
};

class SnapshotStore {
 public:
  explicit SnapshotStore(std::string dir) : dir_(std::move(dir)) {}

  // Every record, ordered by id. Leftover "<id>.json.tmp" files of an interrupted write are
  // removed, other foreign files ignored; a record that cannot be read fails the load, naming the
  // file (it is the only copy of that snapshot's identity: better stop than forget a layer).
  sdk::Result<std::vector<SnapshotRecord>> load_all() const;
  // Creates or replaces the record of `record.id` atomically and durably.
  sdk::Status save(const SnapshotRecord& record) const;
  // Removes the record of `id` durably; a missing record is fine.
  sdk::Status erase(uint64_t id) const;

  [[nodiscard]] const std::string& dir() const { return dir_; }

  static std::string encode(const SnapshotRecord& record);
  // `source` names the file in errors.
  static sdk::Result<SnapshotRecord> decode(std::string_view json, std::string_view source);

 private:
  std::string dir_;
};

}  // namespace berth::plugins::btrfs
