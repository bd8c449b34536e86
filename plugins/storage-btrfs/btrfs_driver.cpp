#include "btrfs_driver.hpp"

#include <btrfsutil.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include "btrfs_ops.hpp"
#include "fs_util.hpp"

namespace berth::plugins::btrfs {
namespace {

using sdk::ErrorCode;
using sdk::make_error;
using sdk::SnapshotKind;
using sdk::storage::snapshot_not_found;

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(12, '0');
  for (auto& c : s) c = kHex[rng() % 16];
  return s;
}

// "data-root /var/lib/berth" when the root is the daemon's <data-root>/plugins/<id>, else the
// root itself: the user chose the data-root, not the driver's directory inside it.
std::string where(const std::string& root, const std::string& driver_id) {
  const std::string suffix = "/plugins/" + driver_id;
  if (!driver_id.empty() && root.size() > suffix.size() &&
      root.compare(root.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return "data-root " + root.substr(0, root.size() - suffix.size());
  }
  return root;
}

// Whether `path` is a mount point (statx STATX_ATTR_MOUNT_ROOT, Linux >= 5.8).
bool is_mount_point(const std::string& path) {
  struct statx stx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) {
    return false;
  }
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

// Removes a leftover of any shape under the driver's root: a subvolume (read-only or not, with
// any subvolumes nested in it), a plain directory tree (deleting subvolumes met inside), or a
// file. Never follows symlinks and never descends into a mount.
sdk::Status remove_leftover(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return sdk::errno_error("stat " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sdk::errno_error("remove " + path);
    return {};
  }
  if (is_mount_point(path)) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "remove " + path + ": a filesystem is mounted there");
  }
  auto subvolume = is_subvolume(path);
  if (!subvolume) return std::move(subvolume).error();
  if (*subvolume) return delete_subvolume(path);
  auto names = list_dir(path);
  if (!names) return std::move(names).error();
  for (const auto& name : *names) BERTH_TRY_STATUS(remove_leftover(path + "/" + name));
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return sdk::errno_error("remove " + path);
  return {};
}

// What create() checks before trusting the filesystem: a subvolume can be made, flagged
// read-only, measured and deleted. Catches a caller without the privileges btrfs wants (deleting
// subvolumes and the tree search need CAP_SYS_ADMIN) before any snapshot depends on it.
sdk::Status probe_subvolumes(const std::string& root) {
  const std::string probe = root + "/probe-" + random_suffix();
  BERTH_TRY_STATUS(create_subvolume(probe));
  auto s = [&]() -> sdk::Status {
    BERTH_TRY_STATUS(set_read_only(probe, true));
    auto usage = tree_usage(probe, 0);
    if (!usage) return std::move(usage).error();
    return {};
  }();
  auto deleted = delete_subvolume(probe);
  if (!s) return s;
  return deleted;
}

}  // namespace

// ---- creation -------------------------------------------------------------------------------

sdk::Result<std::unique_ptr<BtrfsDriver>> BtrfsDriver::create(const sdk::InitContext& ctx) {
  auto config = parse_config(ctx.config_json);
  if (!config) return std::move(config).error().wrap(ctx.driver_id + " config");

  std::string root = ctx.root_dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty() || root.front() != '/') {
    return make_error(ErrorCode::kInvalidArgument,
                      "root directory \"" + root + "\" is not an absolute path");
  }
  // The root may not exist yet: the filesystem it will be created on decides.
  auto fs = filesystem_of(root);
  if (!fs) return std::move(fs).error();
  if (fs->magic != static_cast<int64_t>(static_cast<uint32_t>(BTRFS_SUPER_MAGIC))) {
    return make_error(ErrorCode::kUnsupported,
                      where(root, ctx.driver_id) + " is on " + fs->type +
                          ", not btrfs: put data-root on a btrfs filesystem or use "
                          "storage-driver overlay");
  }
  // Missing parents too: they are all on the filesystem just checked.
  for (size_t slash = root.find('/', fs->checked.size() + 1);; slash = root.find('/', slash + 1)) {
    BERTH_TRY_STATUS(ensure_dir(root.substr(0, slash), 0700));
    if (slash == std::string::npos) break;
  }
  if (auto s = probe_subvolumes(root); !s) {
    const bool denied = s.error().code == ErrorCode::kPermissionDenied;
    return make_error(ErrorCode::kUnsupported,
                      "btrfs subvolumes cannot be managed on " + where(root, ctx.driver_id) + ": " +
                          s.error().message +
                          (denied ? " (the btrfs driver needs CAP_SYS_ADMIN on the host)" : ""));
  }
  auto quotas = quota_status(root);
  if (!quotas) return std::move(quotas).error();
  if (config->usage_source == UsageSource::kQgroups && !quotas->usable()) {
    return make_error(ErrorCode::kInvalidArgument,
                      ctx.driver_id + " config: usage-source \"qgroups\" but quotas are " +
                          quotas->describe() + " on the btrfs filesystem of " + root +
                          ": enable them (btrfs quota enable <mount point>) or set usage-source "
                          "to \"auto\"");
  }

  auto driver = std::unique_ptr<BtrfsDriver>(new BtrfsDriver(root, std::move(*config), ctx.log));
  BERTH_TRY_STATUS(ensure_dir(driver->snapshots_root_, 0700));
  BERTH_TRY_STATUS(ensure_dir(driver->store_.dir(), 0700));
  BERTH_TRY_STATUS(driver->load());
  driver->log(sdk::LogLevel::kInfo, "btrfs storage ready",
              {{"root", root},
               {"quotas", quotas->describe()},
               {"snapshots", std::to_string(driver->by_name_.size())}});
  return driver;
}

BtrfsDriver::BtrfsDriver(std::string root, Config config, sdk::Logger* log)
    : root_(std::move(root)),
      snapshots_root_(root_ + "/snapshots"),
      config_(std::move(config)),
      log_(log),
      store_(root_ + "/metadata", "btrfs") {}

// Rebuilds the maps from the records, checks they form a forest of committed parents (a snapshot
// whose parent is missing could never be used, so it stops the start-up loudly), and puts every
// subvolume's read-only flag in line with its record (finishing or undoing an interrupted
// commit).
sdk::Status BtrfsDriver::load() {
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
    const std::string path = subvolume_path(r.id);
    auto subvolume = is_subvolume(path);
    if (!subvolume || !*subvolume) {
      log(sdk::LogLevel::kError, "snapshot subvolume is missing",
          {{"snapshot", name},
           {"path", path},
           {"error", subvolume ? "not a subvolume" : subvolume.error().message}});
      continue;
    }
    const bool want_ro = r.info.kind != SnapshotKind::kActive;
    auto ro = is_read_only(path);
    if (!ro) return std::move(ro).error().wrap("load snapshot " + name);
    if (*ro != want_ro) {
      BERTH_TRY_STATUS(set_read_only(path, want_ro));
      log(sdk::LogLevel::kInfo,
          want_ro ? "made a writable committed or view snapshot read-only"
                  : "made an active snapshot writable again (interrupted commit)",
          {{"snapshot", name}, {"path", path}});
    }
  }
  // Subvolumes whose record never got written (a crash) keep their ids taken, so a new snapshot
  // never collides with one that cleanup() has not deleted yet.
  if (auto entries = list_dir(snapshots_root_); entries) {
    for (const auto& e : *entries) {
      if (is_decimal(e)) max_id = std::max(max_id, static_cast<uint64_t>(std::stoull(e)));
    }
  }
  next_id_ = max_id + 1;
  return {};
}

// ---- helpers --------------------------------------------------------------------------------

void BtrfsDriver::log(sdk::LogLevel level, std::string_view message,
                      std::initializer_list<sdk::Field> fields) const {
  if (log_ != nullptr && log_->enabled(level)) log_->log(level, message, fields);
}

std::string BtrfsDriver::subvolume_path(uint64_t id) const {
  return snapshots_root_ + "/" + std::to_string(id);
}

const SnapshotRecord* BtrfsDriver::find(std::string_view key) const {
  return sdk::storage::find_snapshot(by_name_, key);
}

std::vector<sdk::Mount> BtrfsDriver::mounts_of(const SnapshotRecord& record) const {
  const bool ro = record.info.kind != SnapshotKind::kActive;
  return {sdk::Mount{"bind", subvolume_path(record.id), "", {"rbind", ro ? "ro" : "rw"}}};
}

// ---- snapshot model -------------------------------------------------------------------------

sdk::DriverInfo BtrfsDriver::info() {
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    count = by_name_.size();
  }
  std::string quotas = "unknown";
  std::string source = "measured (subvolume tree)";
  if (auto q = quota_status(root_); q) {
    quotas = q->describe();
    if (config_.usage_source != UsageSource::kMeasured && q->usable()) source = "qgroups";
  } else {
    quotas = "unknown: " + q.error().message;
  }
  sdk::DriverInfo info;
  info.name = "btrfs";
  info.capabilities = {"view", "usage", "labels", "cleanup", "snapshots"};
  info.status = {
      {"Backing Filesystem", "btrfs"},
      {"Library Version", std::to_string(BTRFS_UTIL_VERSION_MAJOR) + "." +
                              std::to_string(BTRFS_UTIL_VERSION_MINOR) + "." +
                              std::to_string(BTRFS_UTIL_VERSION_PATCH) + " (libbtrfsutil)"},
      {"Quotas", quotas},
      {"Usage Source", source},
      {"Snapshots", std::to_string(count)}};
  return info;
}

sdk::Result<std::vector<sdk::Mount>> BtrfsDriver::prepare(sdk::Context& /*ctx*/,
                                                          std::string_view key,
                                                          std::string_view parent,
                                                          const sdk::Labels& labels) {
  return create_snapshot(SnapshotKind::kActive, key, parent, labels);
}

sdk::Result<std::vector<sdk::Mount>> BtrfsDriver::view(sdk::Context& /*ctx*/, std::string_view key,
                                                       std::string_view parent,
                                                       const sdk::Labels& labels) {
  return create_snapshot(SnapshotKind::kView, key, parent, labels);
}

sdk::Result<std::vector<sdk::Mount>> BtrfsDriver::create_snapshot(SnapshotKind kind,
                                                                  std::string_view key,
                                                                  std::string_view parent,
                                                                  const sdk::Labels& labels) {
  std::lock_guard lock(mu_);
  auto planned = sdk::storage::plan_snapshot(by_name_, next_id_, kind, key, parent, labels);
  if (!planned) return std::move(planned).error();
  SnapshotRecord& record = planned->record;
  const SnapshotRecord* parent_record = planned->parent_record;

  // Subvolume first, record last: a crash in between leaves an orphan subvolume for cleanup().
  const std::string path = subvolume_path(record.id);
  const std::string what = "create snapshot " + std::string(key);
  const bool read_only = kind == SnapshotKind::kView;
  if (parent_record != nullptr) {
    // A snapshot copies the parent's root directory too (mode, owner): the container's "/" is
    // the image's.
    if (auto s = btrfs::create_snapshot(subvolume_path(parent_record->id), path, read_only); !s) {
      return std::move(s).error().wrap(what);
    }
  } else {
    if (auto s = create_subvolume(path); !s) return std::move(s).error().wrap(what);
    if (read_only) {
      if (auto s = set_read_only(path, true); !s) {
        (void)delete_subvolume(path);
        return std::move(s).error().wrap(what);
      }
    }
  }
  if (auto s = store_.save(record); !s) {
    (void)delete_subvolume(path);
    return std::move(s).error().wrap(what);
  }

  auto [it, inserted] = by_name_.emplace(record.info.name, std::move(record));
  log(sdk::LogLevel::kDebug, kind == SnapshotKind::kView ? "view created" : "snapshot prepared",
      {{"snapshot", it->first},
       {"parent", it->second.info.parent},
       {"id", std::to_string(it->second.id)}});
  return mounts_of(it->second);
}

sdk::Result<std::vector<sdk::Mount>> BtrfsDriver::mounts(sdk::Context& /*ctx*/,
                                                         std::string_view key) {
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

sdk::Status BtrfsDriver::commit(sdk::Context& /*ctx*/, std::string_view name, std::string_view key,
                                const sdk::Labels& labels) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    auto planned = sdk::storage::plan_commit(by_name_, name, key, labels);
    if (!planned) return std::move(planned).error();
    SnapshotRecord& committed = *planned;
    // Same id, so the same subvolume: a commit moves no data, it freezes it. Read-only first, so
    // a committed record never names a writable subvolume; the record's rename is the commit.
    const std::string what = "commit " + std::string(key) + " as " + std::string(name);
    const std::string path = subvolume_path(committed.id);
    if (auto s = set_read_only(path, true); !s) return std::move(s).error().wrap(what);
    if (auto s = store_.save(committed); !s) {
      (void)set_read_only(path, false);
      return std::move(s).error().wrap(what);
    }
    id = committed.id;
    by_name_.erase(by_name_.find(key));
    by_name_.emplace(committed.info.name, std::move(committed));
  }
  log(sdk::LogLevel::kDebug, "snapshot committed",
      {{"snapshot", name}, {"key", key}, {"id", std::to_string(id)}});
  return {};
}

sdk::Status BtrfsDriver::remove(sdk::Context& /*ctx*/, std::string_view key) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    auto forgotten = sdk::storage::forget_snapshot(by_name_, store_, key);
    if (!forgotten) return std::move(forgotten).error();
    id = *forgotten;
  }
  // Outside the lock; a failure leaves an orphan subvolume that cleanup() deletes later.
  if (auto s = delete_subvolume(subvolume_path(id)); !s) {
    log(sdk::LogLevel::kWarn, "snapshot removed but its subvolume is left for cleanup",
        {{"snapshot", key}, {"error", s.error().message}});
  }
  log(sdk::LogLevel::kDebug, "snapshot removed", {{"snapshot", key}, {"id", std::to_string(id)}});
  return {};
}

sdk::Result<sdk::SnapshotInfo> BtrfsDriver::stat(sdk::Context& /*ctx*/, std::string_view key) {
  std::lock_guard lock(mu_);
  const SnapshotRecord* record = find(key);
  if (record == nullptr) return snapshot_not_found(key);
  return record->info;
}

sdk::Result<sdk::SnapshotInfo> BtrfsDriver::update_labels(sdk::Context& /*ctx*/,
                                                          std::string_view key,
                                                          const sdk::Labels& labels) {
  std::lock_guard lock(mu_);
  return sdk::storage::update_snapshot_labels(by_name_, store_, key, labels);
}

sdk::Result<sdk::Usage> BtrfsDriver::usage(sdk::Context& ctx, std::string_view key) {
  std::string path;
  bool has_parent = false;
  {
    std::lock_guard lock(mu_);
    const SnapshotRecord* record = find(key);
    if (record == nullptr) return snapshot_not_found(key);
    path = subvolume_path(record->id);
    has_parent = !record->info.parent.empty();
  }
  // Unlocked from here: a commit of the filesystem and a tree search take a while on a busy
  // disk, and other keys need not wait. The subvolume cannot go away meanwhile (the host never
  // calls concurrently for one key).
  const std::string what = "usage of " + std::string(key);
  auto info = subvolume_info(path);
  if (!info) return std::move(info).error().wrap(what);
  // Dirty data has no extents yet, and qgroups are accounted at commit: make both current.
  if (auto s = sync_filesystem(path); !s) return std::move(s).error().wrap(what);
  // A snapshot's own changes are what is newer than the transaction that took it; a subvolume
  // made empty owns everything in it.
  auto measured =
      tree_usage(path, has_parent ? info->otransid : 0, [&ctx] { return ctx.cancelled(); });
  if (!measured) return std::move(measured).error().wrap(what);
  sdk::Usage usage{measured->bytes, measured->inodes};
  if (config_.usage_source == UsageSource::kMeasured) return usage;
  auto quotas = quota_status(path);
  if (!quotas) return std::move(quotas).error().wrap(what);
  if (!quotas->usable()) {
    if (config_.usage_source == UsageSource::kQgroups) {
      return make_error(
          ErrorCode::kUnavailable,
          what + ": usage-source is \"qgroups\" but quotas are " + quotas->describe());
    }
    return usage;
  }
  auto excl = qgroup_exclusive(path, info->id);
  if (!excl) {
    // A subvolume made while quotas were off has no qgroup until a rescan: measured it is.
    if (excl.error().code == ErrorCode::kNotFound && config_.usage_source == UsageSource::kAuto) {
      return usage;
    }
    return std::move(excl).error().wrap(what);
  }
  usage.size = *excl;
  return usage;
}

sdk::Result<std::vector<sdk::SnapshotInfo>> BtrfsDriver::walk(sdk::Context& /*ctx*/,
                                                              const sdk::WalkFilter& filter) {
  std::lock_guard lock(mu_);
  return sdk::storage::walk_snapshots(by_name_, filter);
}

// Deletes what a crash or a failed removal left behind: subvolumes (or anything else) in
// snapshots/ without a record, and probe subvolumes. Never touches a snapshot with a record, so
// it is safe while containers run.
sdk::Status BtrfsDriver::cleanup(sdk::Context& ctx) {
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
  }
  if (auto entries = list_dir(root_); entries) {
    for (const auto& e : *entries) {
      if (e.rfind("probe-", 0) == 0) doomed.push_back(root_ + "/" + e);
    }
  }
  sdk::Status first_failure;
  for (const auto& path : doomed) {
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cleanup cancelled");
    if (auto s = remove_leftover(path); !s) {
      log(sdk::LogLevel::kWarn, "cleanup: cannot remove",
          {{"path", path}, {"error", s.error().message}});
      if (first_failure) first_failure = std::move(s).error().wrap("cleanup");
      continue;
    }
    log(sdk::LogLevel::kInfo, "cleanup: removed leftover", {{"path", path}});
  }
  return first_failure;
}

}  // namespace berth::plugins::btrfs
