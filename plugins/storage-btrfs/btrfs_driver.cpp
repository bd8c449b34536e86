#include "btrfs_driver.hpp"

#include <btrfsutil.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include "berth/sdk/fs.hpp"
#include "btrfs_ops.hpp"
#include "fs_util.hpp"

namespace berth::plugins::btrfs {
namespace {

using sdk::ErrorCode;
using sdk::make_error;
using sdk::SnapshotKind;

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
  BERTH_TRY_STATUS(driver->open());
  driver->log(sdk::LogLevel::kInfo, "btrfs storage ready",
              {{"root", root}, {"quotas", quotas->describe()}});
  return driver;
}

BtrfsDriver::BtrfsDriver(std::string root, Config config, sdk::Logger* log)
    : SnapshotDriverBase(std::move(root), "btrfs", log), config_(std::move(config)) {}

// Puts every subvolume's read-only flag in line with its record (finishing or undoing an
// interrupted commit).
sdk::Status BtrfsDriver::check_loaded(const SnapshotRecord& r) {
  const std::string path = snapshot_path(r.id);
  auto subvolume = is_subvolume(path);
  if (!subvolume || !*subvolume) {
    log(sdk::LogLevel::kError, "snapshot subvolume is missing",
        {{"snapshot", r.info.name},
         {"path", path},
         {"error", subvolume ? "not a subvolume" : subvolume.error().message}});
    return {};
  }
  const bool want_ro = r.info.kind != SnapshotKind::kActive;
  auto ro = is_read_only(path);
  if (!ro) return std::move(ro).error();
  if (*ro != want_ro) {
    BERTH_TRY_STATUS(set_read_only(path, want_ro));
    log(sdk::LogLevel::kInfo,
        want_ro ? "made a writable committed or view snapshot read-only"
                : "made an active snapshot writable again (interrupted commit)",
        {{"snapshot", r.info.name}, {"path", path}});
  }
  return {};
}

std::vector<sdk::Mount> BtrfsDriver::mounts_of(const SnapshotRecord& record) const {
  const bool ro = record.info.kind != SnapshotKind::kActive;
  return {sdk::Mount{"bind", snapshot_path(record.id), "", {"rbind", ro ? "ro" : "rw"}}};
}

// ---- the btrfs steps ------------------------------------------------------------------------

sdk::DriverInfo BtrfsDriver::describe(size_t snapshots) {
  std::string quotas = "unknown";
  std::string source = "measured (subvolume tree)";
  if (auto q = quota_status(root()); q) {
    quotas = q->describe();
    if (config_.usage_source != UsageSource::kMeasured && q->usable()) source = "qgroups";
  } else {
    quotas = "unknown: " + q.error().message;
  }
  sdk::DriverInfo info;
  info.name = "btrfs";
  info.capabilities = {"view", "usage", "labels", "cleanup", "snapshots",
                       std::string(sdk::kSizeLimitCapability)};
  info.status = {
      {"Backing Filesystem", "btrfs"},
      {"Library Version", std::to_string(BTRFS_UTIL_VERSION_MAJOR) + "." +
                              std::to_string(BTRFS_UTIL_VERSION_MINOR) + "." +
                              std::to_string(BTRFS_UTIL_VERSION_PATCH) + " (libbtrfsutil)"},
      {"Quotas", quotas},
      {"Usage Source", source},
      {"Snapshots", std::to_string(snapshots)}};
  return info;
}

// A writable (active) or read-only (view) snapshot of the parent's subvolume, or a new empty
// subvolume without parent.
sdk::Status BtrfsDriver::create_data(const SnapshotRecord& record,
                                     const SnapshotRecord* parent_record) {
  BERTH_TRY_STATUS(create_subvolume_for(record, parent_record));
  if (auto s = apply_size_limit(record); !s) {
    (void)delete_subvolume(snapshot_path(record.id));
    return s;
  }
  return {};
}

// --storage-opt size: the subvolume's qgroup capped, with quotas turned on first if they are off
// (as dockerd's btrfs driver does; logged, since it is a filesystem-wide change).
sdk::Status BtrfsDriver::apply_size_limit(const SnapshotRecord& record) {
  auto bytes = size_limit_of(record);
  if (!bytes) return std::move(bytes).error();
  if (!*bytes) return {};
  auto quotas = quota_status(root());
  if (!quotas) return std::move(quotas).error();
  if (!quotas->enabled) {
    BERTH_TRY_STATUS(enable_quota(root()));
    log(sdk::LogLevel::kInfo, "enabled btrfs quotas for a size limit", {{"root", root()}});
  }
  return limit_subvolume(snapshot_path(record.id), **bytes);
}

sdk::Status BtrfsDriver::create_subvolume_for(const SnapshotRecord& record,
                                              const SnapshotRecord* parent_record) {
  const std::string path = snapshot_path(record.id);
  const bool read_only = record.info.kind == SnapshotKind::kView;
  if (parent_record != nullptr) {
    // A snapshot copies the parent's root directory too (mode, owner): the container's "/" is
    // the image's.
    return btrfs::create_snapshot(snapshot_path(parent_record->id), path, read_only);
  }
  BERTH_TRY_STATUS(create_subvolume(path));
  if (read_only) {
    if (auto s = set_read_only(path, true); !s) {
      (void)delete_subvolume(path);
      return s;
    }
  }
  return {};
}

sdk::Status BtrfsDriver::delete_data(uint64_t id) { return delete_subvolume(snapshot_path(id)); }

// Same id, so the same subvolume: a commit moves no data, it freezes it. Read-only first, so a
// committed record never names a writable subvolume; the record's rename is the commit.
sdk::Status BtrfsDriver::freeze_for_commit(const SnapshotRecord& committed) {
  return set_read_only(snapshot_path(committed.id), true);
}

void BtrfsDriver::undo_freeze(const SnapshotRecord& committed) {
  (void)set_read_only(snapshot_path(committed.id), false);
}

sdk::Result<sdk::Usage> BtrfsDriver::measure_usage(sdk::Context& ctx,
                                                   const SnapshotRecord& record) {
  const std::string path = snapshot_path(record.id);
  const bool has_parent = !record.info.parent.empty();
  auto info = subvolume_info(path);
  if (!info) return std::move(info).error();
  // Dirty data has no extents yet, and qgroups are accounted at commit: make both current.
  BERTH_TRY_STATUS(sync_filesystem(path));
  // A snapshot's own changes are what is newer than the transaction that took it; a subvolume
  // made empty owns everything in it.
  auto measured =
      tree_usage(path, has_parent ? info->otransid : 0, [&ctx] { return ctx.cancelled(); });
  if (!measured) return std::move(measured).error();
  sdk::Usage usage{measured->bytes, measured->inodes};
  if (config_.usage_source == UsageSource::kMeasured) return usage;
  auto quotas = quota_status(path);
  if (!quotas) return std::move(quotas).error();
  if (!quotas->usable()) {
    if (config_.usage_source == UsageSource::kQgroups) {
      return make_error(ErrorCode::kUnavailable,
                        "usage-source is \"qgroups\" but quotas are " + quotas->describe());
    }
    return usage;
  }
  auto excl = qgroup_exclusive(path, info->id);
  if (!excl) {
    // A subvolume made while quotas were off has no qgroup until a rescan: measured it is.
    if (excl.error().code == ErrorCode::kNotFound && config_.usage_source == UsageSource::kAuto) {
      return usage;
    }
    return std::move(excl).error();
  }
  usage.size = *excl;
  return usage;
}

// A leftover of any shape under the driver's root: a subvolume (read-only or not, with any
// subvolumes nested in it), a plain directory tree (deleting subvolumes met inside), or a file.
// The SDK's removal does all of that and never descends into a mount.
sdk::Status BtrfsDriver::remove_leftover(const std::string& path) {
  return sdk::fs::remove_tree(path);
}

}  // namespace berth::plugins::btrfs
