#include "overlay_driver.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "berth/sdk/mount.hpp"
#include "fs_util.hpp"

namespace berth::plugins::overlay {
namespace {

using sdk::ErrorCode;
using sdk::make_error;
using sdk::SnapshotKind;
using sdk::storage::snapshot_not_found;

// Running in a user namespace (uid 0 not mapped to the host's 0): overlay must then keep its
// metadata in user.* xattrs ("userxattr", Linux >= 5.11), as containerd does.
bool in_user_namespace() {
  std::ifstream in("/proc/self/uid_map");
  std::string line;
  if (!std::getline(in, line)) return false;
  std::istringstream fields(line);
  int64_t inside = -1, outside = -1, count = -1;
  fields >> inside >> outside >> count;
  return !(inside == 0 && outside == 0 && count == 4294967295LL);
}

bool has_option(const std::vector<std::string>& options, std::string_view key) {
  for (const auto& o : options) {
    std::string_view name = std::string_view(o).substr(0, o.find('='));
    if (name == key) return true;
  }
  return false;
}

std::string join_lower(const std::vector<std::string>& dirs) {
  std::string out;
  for (const auto& d : dirs) {
    if (!out.empty()) out += ':';
    out += d;
  }
  return out;
}

// Mounts an overlay of two lower dirs and an upper dir on a scratch tree under `root`, writes a
// file through it, and removes everything again: the check containerd and moby run before
// trusting overlay on a backing filesystem (it catches overlay-on-overlay, NFS, missing xattr or
// whiteout support, and a kernel without overlay).
sdk::Status probe_overlay(const std::string& root, const std::vector<std::string>& options) {
  std::string dir = root + "/probe-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return sys_error("create a probe in " + root, errno);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      (void)sdk::unmount_all(dir);
      (void)remove_tree(dir);
    }
  } cleanup{dir};
  for (const char* sub : {"/l1", "/l2", "/upper", "/work", "/merged"}) {
    BERTH_TRY_STATUS(ensure_dir(dir + sub, 0755));
  }
  std::vector<std::string> opts = options;
  opts.push_back("workdir=" + dir + "/work");
  opts.push_back("upperdir=" + dir + "/upper");
  opts.push_back("lowerdir=" + dir + "/l2:" + dir + "/l1");
  const std::string merged = dir + "/merged";
  BERTH_TRY_STATUS(sdk::mount_all({sdk::Mount{"overlay", "overlay", "", opts}}, merged));
  const std::string file = merged + "/probe";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("write through the probe overlay", errno);
  ::close(fd);
  return sdk::unmount_all(merged);
}

}  // namespace

// ---- creation -------------------------------------------------------------------------------

sdk::Result<std::unique_ptr<OverlayDriver>> OverlayDriver::create(const sdk::InitContext& ctx) {
  auto config = parse_config(ctx.config_json);
  if (!config) return std::move(config).error().wrap(ctx.driver_id + " config");

  std::string root = ctx.root_dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty() || root.front() != '/') {
    return make_error(ErrorCode::kInvalidArgument,
                      "root directory \"" + root + "\" is not an absolute path");
  }
  // Lower dirs are joined with ':' and options with ',' in the mount data.
  if (root.find_first_of(":,") != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "root directory " + root +
                          " contains ':' or ',', which overlay options "
                          "cannot carry");
  }
  BERTH_TRY_STATUS(ensure_dir(root, 0700));

  HostFacts facts;
  auto fs = backing_fs(root);
  if (!fs) return std::move(fs).error();
  facts.backing_fs = fs->name;
  if (fs->magic == kOverlayFsMagic) {
    return make_error(ErrorCode::kUnsupported,
                      root +
                          " is on an overlay filesystem, which overlay cannot use as upper "
                          "layer; put the data root on ext4, xfs, btrfs or tmpfs");
  }
  auto d_type = supports_d_type(root);
  if (!d_type) return std::move(d_type).error();
  facts.d_type = *d_type;
  if (!facts.d_type) {
    return make_error(ErrorCode::kUnsupported,
                      "the " + facts.backing_fs + " filesystem of " + root +
                          " does not report file types (d_type), which overlay needs to see "
                          "whiteouts; on xfs, reformat with ftype=1");
  }
  struct stat st {};
  facts.index_param = ::stat("/sys/module/overlay/parameters/index", &st) == 0;
  facts.userxattr = in_user_namespace();

  auto driver = std::unique_ptr<OverlayDriver>(
      new OverlayDriver(root, std::move(*config), std::move(facts), ctx.log));
  std::vector<std::string> base;
  if (driver->facts_.index_param) base.push_back("index=off");
  if (driver->facts_.userxattr) base.push_back("userxattr");
  if (auto s = probe_overlay(root, base); !s) {
    std::string why = s.error().message;
    if (!filesystem_listed("overlay")) why += " (the kernel lists no overlay filesystem)";
    return make_error(ErrorCode::kUnsupported, "overlay does not work on the " +
                                                   driver->facts_.backing_fs + " filesystem of " +
                                                   root + ": " + why);
  }
  if (!driver->config_.mount_options.empty()) {
    if (auto s = probe_overlay(root, driver->overlay_options()); !s) {
      return make_error(
          ErrorCode::kInvalidArgument,
          ctx.driver_id + " config: mount_options are refused by the kernel: " + s.error().message);
    }
  }
  BERTH_TRY_STATUS(ensure_dir(driver->snapshots_root_, 0700));
  BERTH_TRY_STATUS(ensure_dir(driver->store_.dir(), 0700));
  BERTH_TRY_STATUS(driver->load());
  driver->log(sdk::LogLevel::kInfo, "overlay storage ready",
              {{"root", root},
               {"backing_fs", driver->facts_.backing_fs},
               {"snapshots", std::to_string(driver->by_name_.size())}});
  return driver;
}

OverlayDriver::OverlayDriver(std::string root, Config config, HostFacts facts, sdk::Logger* log)
    : root_(std::move(root)),
      snapshots_root_(root_ + "/snapshots"),
      config_(std::move(config)),
      facts_(std::move(facts)),
      log_(log),
      store_(root_ + "/metadata", "overlay", /*accept_unnamed_records=*/true) {}

// Rebuilds the maps from the records and checks they form a forest of committed parents: a
// snapshot whose parent is missing could never be mounted, so it stops the start-up loudly.
sdk::Status OverlayDriver::load() {
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
    struct stat st {};
    if (::stat(fs_dir(r.id).c_str(), &st) != 0) {
      log(sdk::LogLevel::kError, "snapshot directory is missing",
          {{"snapshot", name}, {"path", fs_dir(r.id)}});
    }
  }
  // Directories of snapshots whose record never got written (a crash) keep their ids taken, so
  // a new snapshot never lands in a half-removed directory.
  if (auto entries = list_dir(snapshots_root_); entries) {
    for (const auto& e : *entries) {
      if (is_decimal(e)) max_id = std::max(max_id, static_cast<uint64_t>(std::stoull(e)));
    }
  }
  next_id_ = max_id + 1;
  return {};
}

// ---- helpers --------------------------------------------------------------------------------

void OverlayDriver::log(sdk::LogLevel level, std::string_view message,
                        std::initializer_list<sdk::Field> fields) const {
  if (log_ != nullptr && log_->enabled(level)) log_->log(level, message, fields);
}

std::string OverlayDriver::snapshot_dir(uint64_t id) const {
  return snapshots_root_ + "/" + std::to_string(id);
}

const SnapshotRecord* OverlayDriver::find(std::string_view key) const {
  return sdk::storage::find_snapshot(by_name_, key);
}

std::vector<std::string> OverlayDriver::overlay_options() const {
  std::vector<std::string> options;
  // index=on (a kernel default on some distributions) ties an upper dir to its exact lower dirs;
  // snapshots are remounted over other paths, so it is turned off, as containerd does.
  if (facts_.index_param && !has_option(config_.mount_options, "index")) {
    options.push_back("index=off");
  }
  if (facts_.userxattr && !has_option(config_.mount_options, "userxattr")) {
    options.push_back("userxattr");
  }
  options.insert(options.end(), config_.mount_options.begin(), config_.mount_options.end());
  return options;
}

std::vector<sdk::Mount> OverlayDriver::mounts_of(const SnapshotRecord& record) const {
  // The parent chain, nearest first: overlay's lowerdir order (leftmost is the top layer).
  std::vector<std::string> lower;
  for (std::string_view p = record.info.parent; !p.empty();) {
    const SnapshotRecord* parent = find(p);
    if (parent == nullptr) break;  // load() and remove() keep chains whole
    lower.push_back(fs_dir(parent->id));
    p = parent->info.parent;
  }
  if (record.info.kind == SnapshotKind::kView) {
    if (lower.empty()) return {sdk::Mount{"bind", fs_dir(record.id), "", {"rbind", "ro"}}};
    if (lower.size() == 1) return {sdk::Mount{"bind", lower.front(), "", {"rbind", "ro"}}};
    std::vector<std::string> options = overlay_options();
    options.push_back("lowerdir=" + join_lower(lower));
    return {sdk::Mount{"overlay", "overlay", "", std::move(options)}};
  }
  if (lower.empty()) return {sdk::Mount{"bind", fs_dir(record.id), "", {"rbind", "rw"}}};
  std::vector<std::string> options = overlay_options();
  options.push_back("workdir=" + work_dir(record.id));
  options.push_back("upperdir=" + fs_dir(record.id));
  options.push_back("lowerdir=" + join_lower(lower));
  return {sdk::Mount{"overlay", "overlay", "", std::move(options)}};
}

// ---- snapshot model -------------------------------------------------------------------------

sdk::DriverInfo OverlayDriver::info() {
  size_t count = 0;
  {
    std::lock_guard lock(mu_);
    count = by_name_.size();
  }
  sdk::DriverInfo info;
  info.name = "overlay";
  info.capabilities = {"view", "usage", "labels", "cleanup", "multiple-lowers"};
  bool metacopy = std::find(config_.mount_options.begin(), config_.mount_options.end(),
                            "metacopy=on") != config_.mount_options.end();
  info.status = {{"Backing Filesystem", facts_.backing_fs},
                 {"Supports d_type", facts_.d_type ? "true" : "false"},
                 {"Using metacopy", metacopy ? "true" : "false"},
                 {"userxattr", facts_.userxattr ? "true" : "false"},
                 {"Snapshots", std::to_string(count)}};
  return info;
}

sdk::Result<std::vector<sdk::Mount>> OverlayDriver::prepare(sdk::Context& /*ctx*/,
                                                            std::string_view key,
                                                            std::string_view parent,
                                                            const sdk::Labels& labels) {
  return create_snapshot(SnapshotKind::kActive, key, parent, labels);
}

sdk::Result<std::vector<sdk::Mount>> OverlayDriver::view(sdk::Context& /*ctx*/,
                                                         std::string_view key,
                                                         std::string_view parent,
                                                         const sdk::Labels& labels) {
  return create_snapshot(SnapshotKind::kView, key, parent, labels);
}

sdk::Result<std::vector<sdk::Mount>> OverlayDriver::create_snapshot(SnapshotKind kind,
                                                                    std::string_view key,
                                                                    std::string_view parent,
                                                                    const sdk::Labels& labels) {
  std::lock_guard lock(mu_);
  auto planned = sdk::storage::plan_snapshot(by_name_, next_id_, kind, key, parent, labels);
  if (!planned) return std::move(planned).error();
  SnapshotRecord& record = planned->record;
  const SnapshotRecord* parent_record = planned->parent_record;

  // Directories first, record last: a crash in between leaves an orphan directory for cleanup().
  const std::string dir = snapshot_dir(record.id);
  auto fail = [&](sdk::Error e) -> sdk::Error {
    (void)remove_tree(dir);
    return std::move(e).wrap("create snapshot " + std::string(key));
  };
  // Not through fail(): whatever is in the way was not made by this call.
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return sys_error("create " + dir, errno).wrap("create snapshot " + std::string(key));
  }
  const std::string fs = fs_dir(record.id);
  if (::mkdir(fs.c_str(), 0755) != 0) return fail(sys_error("create " + fs, errno));
  if (parent_record != nullptr) {
    // The merged root directory shows the upper dir's own mode and owner: inherit the parent's,
    // or every container's "/" would become root:root 0755 whatever the image says.
    struct stat st {};
    const std::string parent_fs = fs_dir(parent_record->id);
    if (::stat(parent_fs.c_str(), &st) != 0) return fail(sys_error("stat " + parent_fs, errno));
    if (::chmod(fs.c_str(), st.st_mode & 07777) != 0) return fail(sys_error("chmod " + fs, errno));
    if (::lchown(fs.c_str(), st.st_uid, st.st_gid) != 0) {
      return fail(sys_error("chown " + fs, errno));
    }
  }
  if (kind == SnapshotKind::kActive && parent_record != nullptr) {
    const std::string work = work_dir(record.id);
    if (::mkdir(work.c_str(), 0700) != 0) return fail(sys_error("create " + work, errno));
  }
  if (auto s = store_.save(record); !s) return fail(std::move(s).error());

  auto [it, inserted] = by_name_.emplace(record.info.name, std::move(record));
  log(sdk::LogLevel::kDebug, kind == SnapshotKind::kView ? "view created" : "snapshot prepared",
      {{"snapshot", it->first},
       {"parent", it->second.info.parent},
       {"id", std::to_string(it->second.id)}});
  return mounts_of(it->second);
}

sdk::Result<std::vector<sdk::Mount>> OverlayDriver::mounts(sdk::Context& /*ctx*/,
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

sdk::Status OverlayDriver::commit(sdk::Context& /*ctx*/, std::string_view name,
                                  std::string_view key, const sdk::Labels& labels) {
  uint64_t id = 0;
  bool had_work = false;
  {
    std::lock_guard lock(mu_);
    auto planned = sdk::storage::plan_commit(by_name_, name, key, labels);
    if (!planned) return std::move(planned).error();
    SnapshotRecord& committed = *planned;
    // Same id, so the same directory: a commit moves no data. The record is replaced in one
    // rename; until then the snapshot is still the active one.
    if (auto s = store_.save(committed); !s) {
      return std::move(s).error().wrap("commit " + std::string(key) + " as " + std::string(name));
    }
    id = committed.id;
    had_work = !committed.info.parent.empty();
    by_name_.erase(by_name_.find(key));
    by_name_.emplace(committed.info.name, std::move(committed));
  }
  log(sdk::LogLevel::kDebug, "snapshot committed",
      {{"snapshot", name}, {"key", key}, {"id", std::to_string(id)}});
  // A committed layer is only ever a lower dir: its work dir is dead weight. The caller unmounted
  // the active snapshot before committing (the model's contract). If this fails, cleanup()
  // retries.
  if (had_work) {
    if (auto s = remove_tree(work_dir(id)); !s) {
      log(sdk::LogLevel::kWarn, "cannot remove the work dir of a committed snapshot",
          {{"snapshot", name}, {"error", s.error().message}});
    }
  }
  return {};
}

sdk::Status OverlayDriver::remove(sdk::Context& /*ctx*/, std::string_view key) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    auto forgotten = sdk::storage::forget_snapshot(by_name_, store_, key);
    if (!forgotten) return std::move(forgotten).error();
    id = *forgotten;
  }
  // Outside the lock (a large layer takes a while); a failure leaves an orphan directory that
  // cleanup() removes later.
  if (auto s = remove_tree(snapshot_dir(id)); !s) {
    log(sdk::LogLevel::kWarn, "snapshot removed but its directory is left for cleanup",
        {{"snapshot", key}, {"error", s.error().message}});
  }
  log(sdk::LogLevel::kDebug, "snapshot removed", {{"snapshot", key}, {"id", std::to_string(id)}});
  return {};
}

sdk::Result<sdk::SnapshotInfo> OverlayDriver::stat(sdk::Context& /*ctx*/, std::string_view key) {
  std::lock_guard lock(mu_);
  const SnapshotRecord* record = find(key);
  if (record == nullptr) return snapshot_not_found(key);
  return record->info;
}

sdk::Result<sdk::SnapshotInfo> OverlayDriver::update_labels(sdk::Context& /*ctx*/,
                                                            std::string_view key,
                                                            const sdk::Labels& labels) {
  std::lock_guard lock(mu_);
  return sdk::storage::update_snapshot_labels(by_name_, store_, key, labels);
}

sdk::Result<sdk::Usage> OverlayDriver::usage(sdk::Context& /*ctx*/, std::string_view key) {
  std::string fs;
  {
    std::lock_guard lock(mu_);
    const SnapshotRecord* record = find(key);
    if (record == nullptr) return snapshot_not_found(key);
    fs = fs_dir(record->id);
  }
  // The walk runs unlocked: it can take long on a big layer, and other keys need not wait.
  auto usage = disk_usage(fs);
  if (!usage) return std::move(usage).error().wrap("usage of " + std::string(key));
  return usage;
}

sdk::Result<std::vector<sdk::SnapshotInfo>> OverlayDriver::walk(sdk::Context& /*ctx*/,
                                                                const sdk::WalkFilter& filter) {
  std::lock_guard lock(mu_);
  return sdk::storage::walk_snapshots(by_name_, filter);
}

// Removes what a crash or a failed removal left behind: snapshot directories without a record,
// work dirs of committed snapshots, probe scratch trees. Never touches a snapshot with a record,
// so it is safe while containers run.
sdk::Status OverlayDriver::cleanup(sdk::Context& ctx) {
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mu_);
    std::set<uint64_t> known;
    for (const auto& [name, r] : by_name_) {
      known.insert(r.id);
      if (r.info.kind == SnapshotKind::kCommitted) {
        struct stat st {};
        if (::lstat(work_dir(r.id).c_str(), &st) == 0) doomed.push_back(work_dir(r.id));
      }
    }
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
      if (e.rfind("probe-", 0) == 0 || e.rfind("d_type-probe-", 0) == 0) {
        doomed.push_back(root_ + "/" + e);
      }
    }
  }
  sdk::Status first_failure;
  for (const auto& path : doomed) {
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cleanup cancelled");
    // An orphan is normally not mounted, but a crashed probe's scratch mount may still be there.
    sdk::Status s = sdk::unmount_all(path);
    if (s) s = remove_tree(path);
    if (!s) {
      log(sdk::LogLevel::kWarn, "cleanup: cannot remove",
          {{"path", path}, {"error", s.error().message}});
      if (first_failure) first_failure = std::move(s).error().wrap("cleanup");
      continue;
    }
    log(sdk::LogLevel::kInfo, "cleanup: removed leftover", {{"path", path}});
  }
  return first_failure;
}

}  // namespace berth::plugins::overlay
