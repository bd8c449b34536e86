#include "berth/sdk/storage/snapshot_driver_base.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include "berth/sdk/storage/durable_files.hpp"

namespace berth::sdk::storage {

SnapshotDriverBase::SnapshotDriverBase(std::string root, std::string driver_name, Logger* log,
                                       bool accept_unnamed_records)
    : root_(std::move(root)),
      snapshots_root_(root_ + "/snapshots"),
      log_(log),
      store_(root_ + "/metadata", std::move(driver_name), accept_unnamed_records) {}

Status SnapshotDriverBase::open() {
  BERTH_TRY_STATUS(ensure_dir(snapshots_root_, 0700));
  BERTH_TRY_STATUS(ensure_dir(store_.dir(), 0700));
  return load();
}

// Rebuilds the index from the records and checks they form a forest of committed parents: a
// snapshot whose parent is missing could never be mounted, so it stops the start-up loudly.
Status SnapshotDriverBase::load() {
  auto records = store_.load_all();
  if (!records) return std::move(records).error().wrap("load snapshot metadata");
  std::lock_guard lock(mu_);
  by_name_.clear();
  uint64_t max_id = 0;
  for (auto& r : *records) {
    max_id = std::max(max_id, r.id);
    auto [it, inserted] = by_name_.emplace(r.info.name, r);
    if (!inserted) {
      return make_error(ErrorCode::kInternal,
                        "load snapshot metadata: records " + std::to_string(it->second.id) +
                            " and " + std::to_string(r.id) + " both claim " + r.info.name);
    }
  }
  for (const auto& [name, r] : by_name_) {
    if (r.info.parent.empty()) continue;
    const SnapshotRecord* parent = find(r.info.parent);
    if (parent == nullptr || parent->info.kind != SnapshotKind::kCommitted) {
      return make_error(ErrorCode::kInternal, "load snapshot metadata: snapshot " + name +
                                                  " (record " + std::to_string(r.id) +
                                                  ") has parent " + r.info.parent + ", which is " +
                                                  (parent ? "not committed" : "missing"));
    }
    // Parents are older than their children (a commit keeps its id): anything else is a loop.
    if (parent->id >= r.id) {
      return make_error(ErrorCode::kInternal, "load snapshot metadata: snapshot " + name +
                                                  " has a newer parent " + r.info.parent);
    }
  }
  for (const auto& [name, r] : by_name_) {
    if (auto s = check_loaded(r); !s) return std::move(s).error().wrap("load snapshot " + name);
  }
  // Data whose record never got written (a crash) keeps its id taken, so a new snapshot never
  // lands on something cleanup() has not deleted yet.
  if (auto entries = list_dir(snapshots_root_); entries) {
    for (const auto& e : *entries) {
      if (is_decimal(e)) max_id = std::max(max_id, static_cast<uint64_t>(std::stoull(e)));
    }
  }
  next_id_ = max_id + 1;
  return {};
}

void SnapshotDriverBase::log(LogLevel level, std::string_view message,
                             std::initializer_list<Field> fields) const {
  if (log_ != nullptr && log_->enabled(level)) log_->log(level, message, fields);
}

std::string SnapshotDriverBase::snapshot_path(uint64_t id) const {
  return snapshots_root_ + "/" + std::to_string(id);
}

const SnapshotRecord* SnapshotDriverBase::find(std::string_view key) const {
  return find_snapshot(by_name_, key);
}

DriverInfo SnapshotDriverBase::info() {
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    count = by_name_.size();
  }
  return describe(count);
}

Result<std::vector<Mount>> SnapshotDriverBase::prepare(Context& /*ctx*/, std::string_view key,
                                                       std::string_view parent,
                                                       const Labels& labels) {
  return create_snapshot(SnapshotKind::kActive, key, parent, labels);
}

Result<std::vector<Mount>> SnapshotDriverBase::view(Context& /*ctx*/, std::string_view key,
                                                    std::string_view parent,
                                                    const Labels& labels) {
  return create_snapshot(SnapshotKind::kView, key, parent, labels);
}

Result<std::vector<Mount>> SnapshotDriverBase::create_snapshot(SnapshotKind kind,
                                                               std::string_view key,
                                                               std::string_view parent,
                                                               const Labels& labels) {
  std::lock_guard lock(mu_);
  auto planned = plan_snapshot(by_name_, next_id_, kind, key, parent, labels);
  if (!planned) return std::move(planned).error();
  SnapshotRecord& record = planned->record;
  const std::string what = "create snapshot " + std::string(key);
  // Data first, record last: a crash in between leaves orphan data for cleanup().
  if (auto s = create_data(record, planned->parent_record); !s) {
    return std::move(s).error().wrap(what);
  }
  if (auto s = store_.save(record); !s) {
    (void)delete_data(record.id);
    return std::move(s).error().wrap(what);
  }
  auto [it, inserted] = by_name_.emplace(record.info.name, std::move(record));
  log(LogLevel::kDebug, kind == SnapshotKind::kView ? "view created" : "snapshot prepared",
      {{"snapshot", it->first},
       {"parent", it->second.info.parent},
       {"id", std::to_string(it->second.id)}});
  return mounts_of(it->second);
}

Result<std::vector<Mount>> SnapshotDriverBase::mounts(Context& /*ctx*/, std::string_view key) {
  std::lock_guard lock(mu_);
  const SnapshotRecord* record = find(key);
  if (record == nullptr) return snapshot_not_found(key);
  if (record->info.kind == SnapshotKind::kCommitted) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "snapshot " + std::string(key) +
                          " is committed: only active snapshots and views have mounts");
  }
  return mounts_of(*record);
}

Status SnapshotDriverBase::commit(Context& /*ctx*/, std::string_view name, std::string_view key,
                                  const Labels& labels) {
  SnapshotRecord done;
  {
    std::lock_guard lock(mu_);
    auto planned = plan_commit(by_name_, name, key, labels);
    if (!planned) return std::move(planned).error();
    SnapshotRecord& committed = *planned;
    // Same id, so the same data: a commit moves nothing. The record is replaced in one rename;
    // until then the snapshot is still the active one.
    const std::string what = "commit " + std::string(key) + " as " + std::string(name);
    if (auto s = freeze_for_commit(committed); !s) return std::move(s).error().wrap(what);
    if (auto s = store_.save(committed); !s) {
      undo_freeze(committed);
      return std::move(s).error().wrap(what);
    }
    done = committed;
    by_name_.erase(by_name_.find(key));
    by_name_.emplace(committed.info.name, std::move(committed));
  }
  log(LogLevel::kDebug, "snapshot committed",
      {{"snapshot", name}, {"key", key}, {"id", std::to_string(done.id)}});
  after_commit(done);
  return {};
}

Status SnapshotDriverBase::remove(Context& /*ctx*/, std::string_view key) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    auto forgotten = forget_snapshot(by_name_, store_, key);
    if (!forgotten) return std::move(forgotten).error();
    id = *forgotten;
  }
  // Outside the lock (a large layer takes a while); a failure leaves orphan data that cleanup()
  // removes later (the id is never handed out again).
  if (auto s = delete_data(id); !s) {
    log(LogLevel::kWarn, "snapshot removed but its data is left for cleanup",
        {{"snapshot", key}, {"error", s.error().message}});
  }
  log(LogLevel::kDebug, "snapshot removed", {{"snapshot", key}, {"id", std::to_string(id)}});
  return {};
}

Result<SnapshotInfo> SnapshotDriverBase::stat(Context& /*ctx*/, std::string_view key) {
  std::lock_guard lock(mu_);
  const SnapshotRecord* record = find(key);
  if (record == nullptr) return snapshot_not_found(key);
  return record->info;
}

Result<SnapshotInfo> SnapshotDriverBase::update_labels(Context& /*ctx*/, std::string_view key,
                                                       const Labels& labels) {
  std::lock_guard lock(mu_);
  return update_snapshot_labels(by_name_, store_, key, labels);
}

Result<Usage> SnapshotDriverBase::usage(Context& ctx, std::string_view key) {
  SnapshotRecord record;
  {
    std::lock_guard lock(mu_);
    const SnapshotRecord* found = find(key);
    if (found == nullptr) return snapshot_not_found(key);
    record = *found;
  }
  // Unlocked: measuring a big layer takes a while, and other keys need not wait. The data cannot
  // go away meanwhile (the host never calls concurrently for one key).
  auto usage = measure_usage(ctx, record);
  if (!usage) return std::move(usage).error().wrap("usage of " + std::string(key));
  return usage;
}

Result<std::vector<SnapshotInfo>> SnapshotDriverBase::walk(Context& /*ctx*/,
                                                           const WalkFilter& filter) {
  std::lock_guard lock(mu_);
  return walk_snapshots(by_name_, filter);
}

// Removes what a crash or a failed removal left behind: data in snapshots/ without a record,
// "probe-*" scratch entries in the root, and whatever the driver adds. Never touches a snapshot
// with a record, so it is safe while containers run.
Status SnapshotDriverBase::cleanup(Context& ctx) {
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mu_);
    std::set<uint64_t> known;
    for (const auto& [name, r] : by_name_) known.insert(r.id);
    auto entries = list_dir(snapshots_root_);
    if (!entries) return std::move(entries).error().wrap("cleanup");
    for (const auto& e : *entries) {
      // Ids below next_id_ only: a higher one would be a snapshot being created right now.
      if (!is_decimal(e) || (std::stoull(e) < next_id_ && known.count(std::stoull(e)) == 0)) {
        doomed.push_back(snapshots_root_ + "/" + e);
      }
    }
    find_leftovers(by_name_, doomed);
  }
  if (auto entries = list_dir(root_); entries) {
    for (const auto& e : *entries) {
      if (e.rfind("probe-", 0) == 0) doomed.push_back(root_ + "/" + e);
    }
  }
  Status first_failure;
  for (const auto& path : doomed) {
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cleanup cancelled");
    if (auto s = remove_leftover(path); !s) {
      log(LogLevel::kWarn, "cleanup: cannot remove", {{"path", path}, {"error", s.error().message}});
      if (first_failure) first_failure = std::move(s).error().wrap("cleanup");
      continue;
    }
    log(LogLevel::kInfo, "cleanup: removed leftover", {{"path", path}});
  }
  return first_failure;
}

Result<std::optional<uint64_t>> SnapshotDriverBase::size_limit_of(const SnapshotRecord& record) {
  auto it = record.info.labels.find(kSnapshotSizeLabel);
  if (it == record.info.labels.end()) return std::optional<uint64_t>{};
  const std::string& text = it->second;
  uint64_t bytes = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (ec != std::errc() || end != text.data() + text.size() || bytes == 0) {
    return make_error(ErrorCode::kInvalidArgument, "invalid size limit \"" + text +
                                                       "\" in label " +
                                                       std::string(kSnapshotSizeLabel) +
                                                       ": a positive number of bytes");
  }
  return std::optional<uint64_t>{bytes};
}

}  // namespace berth::sdk::storage
