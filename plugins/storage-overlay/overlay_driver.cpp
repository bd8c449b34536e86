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
  BERTH_TRY_STATUS(driver->open());
  if (auto quota = ProjectQuota::open(root, root + "/snapshots"); quota) {
    driver->quota_ = std::move(*quota);
  } else if (quota.error().code != ErrorCode::kUnsupported) {
    // Offering no size limits is the safe answer; say why, since xfs was meant to have them.
    driver->log(sdk::LogLevel::kWarn, "size limits (--storage-opt size) are not available",
                {{"root", root}, {"error", quota.error().message}});
  }
  driver->log(sdk::LogLevel::kInfo, "overlay storage ready",
              {{"root", root},
               {"backing_fs", driver->facts_.backing_fs},
               {"size_limits", driver->quota_ ? "xfs project quotas" : "none"}});
  return driver;
}

OverlayDriver::OverlayDriver(std::string root, Config config, HostFacts facts, sdk::Logger* log)
    : SnapshotDriverBase(std::move(root), "overlay", log, /*accept_unnamed_records=*/true),
      config_(std::move(config)),
      facts_(std::move(facts)) {}

sdk::Status OverlayDriver::check_loaded(const SnapshotRecord& record) {
  struct stat st {};
  if (::stat(fs_dir(record.id).c_str(), &st) != 0) {
    log(sdk::LogLevel::kError, "snapshot directory is missing",
        {{"snapshot", record.info.name}, {"path", fs_dir(record.id)}});
  }
  return {};
}

// ---- helpers --------------------------------------------------------------------------------

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

// ---- the overlay steps ----------------------------------------------------------------------

sdk::DriverInfo OverlayDriver::describe(size_t snapshots) {
  sdk::DriverInfo info;
  info.name = "overlay";
  info.capabilities = {"view", "usage", "labels", "cleanup", "multiple-lowers"};
  if (quota_) info.capabilities.emplace_back(sdk::kSizeLimitCapability);
  bool metacopy = std::find(config_.mount_options.begin(), config_.mount_options.end(),
                            "metacopy=on") != config_.mount_options.end();
  info.status = {{"Backing Filesystem", facts_.backing_fs},
                 {"Supports d_type", facts_.d_type ? "true" : "false"},
                 {"Using metacopy", metacopy ? "true" : "false"},
                 {"userxattr", facts_.userxattr ? "true" : "false"},
                 {"Snapshots", std::to_string(snapshots)}};
  return info;
}

// snapshots/<id>/fs (and work/ for an active snapshot with a parent).
sdk::Status OverlayDriver::create_data(const SnapshotRecord& record,
                                       const SnapshotRecord* parent_record) {
  const std::string dir = snapshot_path(record.id);
  auto fail = [&](sdk::Error e) -> sdk::Error {
    (void)remove_tree(dir);
    return e;
  };
  auto size_limit = size_limit_of(record);
  if (!size_limit) return std::move(size_limit).error();
  if (*size_limit && !quota_) {
    return make_error(ErrorCode::kUnsupported,
                      "a size limit needs the data root on xfs mounted with pquota");
  }
  // Not through fail(): whatever is in the way was not made by this call.
  if (::mkdir(dir.c_str(), 0700) != 0) return sys_error("create " + dir, errno);
  // The project id goes on the snapshot directory before anything is made in it, so the upper
  // and work dirs and all a container writes inherit it.
  if (*size_limit) {
    if (auto s = quota_->limit(dir, **size_limit); !s) return fail(std::move(s).error());
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
  if (record.info.kind == SnapshotKind::kActive && parent_record != nullptr) {
    const std::string work = work_dir(record.id);
    if (::mkdir(work.c_str(), 0700) != 0) return fail(sys_error("create " + work, errno));
  }
  return {};
}

sdk::Status OverlayDriver::delete_data(uint64_t id) { return remove_tree(snapshot_path(id)); }

// A committed layer is only ever a lower dir: its work dir is dead weight. The caller unmounted
// the active snapshot before committing (the model's contract). If this fails, cleanup() retries.
void OverlayDriver::after_commit(const SnapshotRecord& committed) {
  if (committed.info.parent.empty()) return;
  if (auto s = remove_tree(work_dir(committed.id)); !s) {
    log(sdk::LogLevel::kWarn, "cannot remove the work dir of a committed snapshot",
        {{"snapshot", committed.info.name}, {"error", s.error().message}});
  }
}

sdk::Result<sdk::Usage> OverlayDriver::measure_usage(sdk::Context& /*ctx*/,
                                                     const SnapshotRecord& record) {
  return disk_usage(fs_dir(record.id));
}

// Work dirs of committed snapshots and d_type probes, besides the base's orphans and probes.
void OverlayDriver::find_leftovers(const sdk::storage::SnapshotIndex& index,
                                   std::vector<std::string>& doomed) const {
  for (const auto& [name, r] : index) {
    if (r.info.kind != SnapshotKind::kCommitted) continue;
    struct stat st {};
    if (::lstat(work_dir(r.id).c_str(), &st) == 0) doomed.push_back(work_dir(r.id));
  }
  if (auto entries = list_dir(root()); entries) {
    for (const auto& e : *entries) {
      if (e.rfind("d_type-probe-", 0) == 0) doomed.push_back(root() + "/" + e);
    }
  }
}

// An orphan is normally not mounted, but a crashed probe's scratch mount may still be there.
sdk::Status OverlayDriver::remove_leftover(const std::string& path) {
  BERTH_TRY_STATUS(sdk::unmount_all(path));
  return remove_tree(path);
}

}  // namespace berth::plugins::overlay
