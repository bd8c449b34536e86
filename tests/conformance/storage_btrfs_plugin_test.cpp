// The btrfs plugin's own behaviour beyond the shared suite, through the real .so: where it
// refuses to run (and what it says), config validation, the mount specs and subvolumes it makes,
// usage from qgroups or measured, and what it does after a crash. On btrfs and ext4 filesystems
// made on loop devices by the test itself; root only.
#include "tests/conformance/storage_btrfs_plugin.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "berth/sdk/mount.hpp"
#include "berth/sdk/testing/fs.hpp"

namespace berth::tests {
namespace {

using sdk::ErrorCode;
using sdk::Mount;
using sdk::testing::exists;
using sdk::testing::make_dirs;
using sdk::testing::read_file;
using sdk::testing::TempDir;
using sdk::testing::write_file;

constexpr uint32_t kBtrfsMagic = 0x9123683E;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Raw ioctls, so the test checks the kernel's view rather than the plugin's own helpers.
int subvolume_flags(const std::string& path, uint64_t* flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = ::ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, flags);
  ::close(fd);
  return rc;
}
bool is_read_only_subvolume(const std::string& path) {
  uint64_t flags = 0;
  return subvolume_flags(path, &flags) == 0 && (flags & BTRFS_SUBVOL_RDONLY) != 0;
}
bool set_subvolume_read_only(const std::string& path, bool ro) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  uint64_t flags = ro ? BTRFS_SUBVOL_RDONLY : 0;
  int rc = ::ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &flags);
  ::close(fd);
  return rc == 0;
}
bool make_subvolume(const std::string& parent, const std::string& name) {
  int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  btrfs_ioctl_vol_args args{};
  name.copy(args.name, sizeof(args.name) - 1);
  int rc = ::ioctl(fd, BTRFS_IOC_SUBVOL_CREATE, &args);
  ::close(fd);
  return rc == 0;
}
// A subvolume's root: inode 256 on btrfs.
bool is_subvolume_root(const std::string& path) {
  struct stat st {};
  struct statfs sfs {};
  return ::stat(path.c_str(), &st) == 0 && ::statfs(path.c_str(), &sfs) == 0 &&
         static_cast<uint32_t>(sfs.f_type) == kBtrfsMagic && st.st_ino == 256;
}
bool can_create_file(const std::string& dir) {
  const std::string p = dir + "/probe-write";
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  ::close(fd);
  ::unlink(p.c_str());
  return true;
}
std::string status_of(const sdk::DriverInfo& info, const std::string& key) {
  for (const auto& [k, v] : info.status) {
    if (k == key) return v;
  }
  return "<absent>";
}

class BtrfsPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(use(LoopFilesystems::kBtrfs)); }

  void use(LoopFilesystems::Kind kind) {
    auto mnt = LoopFilesystems::instance().get(kind);
    if (!mnt && mnt.error().code == ErrorCode::kUnsupported) {
      GTEST_SKIP() << mnt.error().message;
    }
    ASSERT_TRUE(mnt.has_value()) << mnt.error().message;
    driver_.reset();
    if (!tmp_.path().empty()) {
      ASSERT_TRUE(tmp_.remove().has_value());
    }
    auto t = TempDir::create(*mnt, "plugin-");
    ASSERT_TRUE(t.has_value()) << t.error().message;
    tmp_ = std::move(*t);
    root_ = tmp_.sub("root");
    state_ = tmp_.sub("state");
  }

  void TearDown() override {
    driver_.reset();
    if (tmp_.path().empty()) return;
    auto left = sdk::mount_points_under(tmp_.path());
    ASSERT_TRUE(left.has_value());
    EXPECT_TRUE(left->empty()) << "the test left " << left->size() << " mount(s) behind";
    auto removed = tmp_.remove();
    EXPECT_TRUE(removed.has_value()) << removed.error().message;
  }

  sdk::Result<std::unique_ptr<sdk::StorageDriver>> create(const std::string& config = "{}") {
    return create_btrfs(root_, state_, config);
  }
  void create_ok(const std::string& config = "{}") {
    auto d = create(config);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    driver_ = std::move(*d);
  }
  void expect_invalid_config(const std::string& config, const std::string& mentions) {
    auto d = create(config);
    ASSERT_FALSE(d.has_value()) << config << " was accepted";
    EXPECT_EQ(sdk::error_code_name(d.error().code), "invalid argument") << d.error().message;
    EXPECT_TRUE(contains(d.error().message, mentions))
        << "\"" << d.error().message << "\" does not mention " << mentions;
  }
  // The source directory of a snapshot's single bind mount.
  std::string source_of(const std::string& key) {
    auto m = driver_->mounts(ctx_, key);
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
    if (!m || m->size() != 1) return {};
    return m->front().source;
  }
  // prepare + write + commit, returning the subvolume path.
  std::string layer(const std::string& name, const std::string& parent, const std::string& file,
                    size_t size) {
    auto m = driver_->prepare(ctx_, "active-" + name, parent, {});
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
    if (!m) return {};
    const std::string dir = m->front().source;
    EXPECT_TRUE(write_file(dir + "/" + file, std::string(size, 'x')).has_value());
    auto c = driver_->commit(ctx_, name, "active-" + name, {});
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
    return dir;
  }

  TempDir tmp_;
  std::string root_, state_;
  sdk::Context ctx_{"btrfs-plugin-test"};
  std::unique_ptr<sdk::StorageDriver> driver_;
};

// ---- where it runs --------------------------------------------------------------------------

TEST_F(BtrfsPluginTest, Ext4DataRootIsUnsupportedWithReasonAndFix) {
  ASSERT_NO_FATAL_FAILURE(use(LoopFilesystems::kExt4));
  // As berthd asks: <data-root>/plugins/storage.btrfs, which does not exist yet.
  const std::string data_root = tmp_.sub("data");
  auto d = create_btrfs(data_root + "/plugins/storage.btrfs", state_);
  ASSERT_FALSE(d.has_value()) << "btrfs accepted a data-root on ext4";
  EXPECT_EQ(sdk::error_code_name(d.error().code), "unsupported") << d.error().message;
  const std::string& m = d.error().message;
  EXPECT_TRUE(contains(m, "data-root " + data_root + " is on ext4, not btrfs")) << m;
  EXPECT_TRUE(contains(m, "put data-root on a btrfs filesystem")) << m;
  EXPECT_TRUE(contains(m, "storage-driver overlay")) << m;
  EXPECT_FALSE(exists(data_root)) << "an unsupported driver must not create its directories";
}

TEST_F(BtrfsPluginTest, TmpfsRootIsUnsupported) {
  const std::string t = tmp_.sub("tmpfs");
  ASSERT_TRUE(make_dirs(t).has_value());
  auto m = sdk::ScopedMounts::mount({Mount{"tmpfs", "tmpfs", "", {"size=16m"}}}, t);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  auto d = create_btrfs(t + "/root", state_);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kUnsupported) << d.error().message;
  EXPECT_TRUE(contains(d.error().message, t + "/root is on tmpfs, not btrfs")) << d.error().message;
}

TEST_F(BtrfsPluginTest, BtrfsRootWorksAndInfoSaysSo) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  auto info = driver_->info();
  EXPECT_EQ(info.name, "btrfs");
  EXPECT_EQ(status_of(info, "Backing Filesystem"), "btrfs");
  EXPECT_EQ(status_of(info, "Quotas"), "disabled");
  EXPECT_TRUE(contains(status_of(info, "Usage Source"), "measured"));
  EXPECT_TRUE(contains(status_of(info, "Library Version"), "libbtrfsutil"));
  EXPECT_EQ(status_of(info, "Snapshots"), "0");
  // The create-time probe leaves nothing.
  for (const auto& e : std::filesystem::directory_iterator(root_)) {
    EXPECT_EQ(e.path().filename().string().rfind("probe-", 0), std::string::npos) << e.path();
  }
}

TEST_F(BtrfsPluginTest, MissingParentsOfTheRootAreCreated) {
  const std::string deep = tmp_.sub("a/b/plugins/storage.btrfs");
  auto d = create_btrfs(deep, state_);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_TRUE(exists(deep + "/snapshots"));
  EXPECT_TRUE(exists(deep + "/metadata"));
}

TEST_F(BtrfsPluginTest, RelativeRootIsRejected) {
  auto d = create_btrfs("relative/root", state_);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
}

// ---- configuration --------------------------------------------------------------------------

TEST_F(BtrfsPluginTest, EmptyAndKnownConfigsAreAccepted) {
  for (const char* config :
       {"", "{}", "  ", "null", R"({"usage-source": "auto"})", R"({"usage-source": "measured"})"}) {
    auto d = create(config);
    EXPECT_TRUE(d.has_value()) << "config \"" << config << "\": " << d.error().message;
  }
}

TEST_F(BtrfsPluginTest, UnknownKeysAreRejectedByName) {
  expect_invalid_config(R"({"usage-source": "auto", "usage_source": "auto"})", "\"usage_source\"");
  expect_invalid_config(R"({"quota": true, "size": 3})", "\"quota\", \"size\"");
}

TEST_F(BtrfsPluginTest, WrongTypesAndValuesAreRejectedByName) {
  expect_invalid_config(R"({"usage-source": 1})", "usage-source");
  expect_invalid_config(R"({"usage-source": "du"})", "\"du\"");
  expect_invalid_config(R"(["usage-source"])", "object");
  expect_invalid_config(R"({"usage-source": )", "JSON");
}

TEST_F(BtrfsPluginTest, QgroupUsageWithoutQuotasIsRefusedWithTheFix) {
  expect_invalid_config(R"({"usage-source": "qgroups"})", "btrfs quota enable");
}

// ---- subvolumes and mounts ------------------------------------------------------------------

TEST_F(BtrfsPluginTest, SnapshotsAreSubvolumesBindMountedFromTheirDirectory) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  const std::string snapshots = root_ + "/snapshots/";
  auto first = driver_->prepare(ctx_, "sha256:aaaa", "", {});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_EQ(first->size(), 1u);
  const Mount& m = first->front();
  EXPECT_EQ(m.type, "bind");
  EXPECT_EQ(m.options, (std::vector<std::string>{"rbind", "rw"}));
  EXPECT_EQ(m.source.rfind(snapshots, 0), 0u) << m.source;
  EXPECT_FALSE(contains(m.source, "sha256")) << "a key became a path: " << m.source;
  EXPECT_TRUE(is_subvolume_root(m.source)) << m.source << " is not a subvolume";
  EXPECT_FALSE(is_read_only_subvolume(m.source));
  ASSERT_TRUE(write_file(m.source + "/f", "base").has_value());

  // Commit freezes the same subvolume: no copy, read-only from now on.
  ASSERT_TRUE(driver_->commit(ctx_, "base", "sha256:aaaa", {}).has_value());
  EXPECT_TRUE(is_read_only_subvolume(m.source)) << "a committed layer must be read-only";
  EXPECT_FALSE(can_create_file(m.source));
  EXPECT_EQ(read_file(m.source + "/f").value_or(""), "base");

  // A container: a writable snapshot of its top layer.
  auto active = driver_->prepare(ctx_, "container", "base", {});
  ASSERT_TRUE(active.has_value()) << active.error().message;
  const std::string rw = active->front().source;
  EXPECT_NE(rw, m.source);
  EXPECT_TRUE(is_subvolume_root(rw));
  EXPECT_FALSE(is_read_only_subvolume(rw));
  EXPECT_EQ(read_file(rw + "/f").value_or(""), "base");
  ASSERT_TRUE(write_file(rw + "/f", "changed").has_value());
  EXPECT_EQ(read_file(m.source + "/f").value_or(""), "base") << "a snapshot leaked into its parent";

  // A view: a read-only snapshot, mounted read-only too.
  auto view = driver_->view(ctx_, "view", "base", {});
  ASSERT_TRUE(view.has_value()) << view.error().message;
  EXPECT_EQ(view->front().options, (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_TRUE(is_subvolume_root(view->front().source));
  EXPECT_TRUE(is_read_only_subvolume(view->front().source));

  // Mounting what the driver returns gives the snapshot's files.
  const std::string target = tmp_.sub("mnt");
  ASSERT_TRUE(make_dirs(target).has_value());
  {
    auto mounted = sdk::ScopedMounts::mount(*active, target);
    ASSERT_TRUE(mounted.has_value()) << mounted.error().message;
    EXPECT_EQ(read_file(target + "/f").value_or(""), "changed");
  }

  // Removal deletes the subvolume.
  ASSERT_TRUE(driver_->remove(ctx_, "container").has_value());
  ASSERT_TRUE(driver_->remove(ctx_, "view").has_value());
  EXPECT_FALSE(exists(rw));
  EXPECT_FALSE(exists(view->front().source));
}

TEST_F(BtrfsPluginTest, ChildRootKeepsTheParentRootModeAndOwner) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  auto first = driver_->prepare(ctx_, "a", "", {});
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(::chmod(first->front().source.c_str(), 0710), 0);
  ASSERT_EQ(::chown(first->front().source.c_str(), 123, 456), 0);
  ASSERT_TRUE(driver_->commit(ctx_, "base", "a", {}).has_value());
  auto child = driver_->prepare(ctx_, "child", "base", {});
  ASSERT_TRUE(child.has_value());
  struct stat st {};
  ASSERT_EQ(::stat(child->front().source.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_EQ(st.st_uid, 123u);
  EXPECT_EQ(st.st_gid, 456u);
}

// ---- usage ----------------------------------------------------------------------------------

TEST_F(BtrfsPluginTest, MeasuredUsageCountsOnlyWhatASnapshotWrote) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  constexpr int64_t kMiB = 1 << 20;
  layer("base", "", "big", 2 * kMiB);
  auto child = driver_->prepare(ctx_, "child", "base", {});
  ASSERT_TRUE(child.has_value());
  ASSERT_TRUE(write_file(child->front().source + "/small", std::string(kMiB / 2, 's')).has_value());
  auto base = driver_->usage(ctx_, "base");
  ASSERT_TRUE(base.has_value()) << base.error().message;
  auto own = driver_->usage(ctx_, "child");
  ASSERT_TRUE(own.has_value()) << own.error().message;
  // The layer keeps its bytes although the child shares them (a qgroup's "exclusive" would not).
  EXPECT_GE(base->size, 2 * kMiB);
  EXPECT_LT(base->size, 2 * kMiB + kMiB / 4);
  EXPECT_EQ(base->inodes, 2);  // "/" and big
  // The child: its own half MiB, its new file and its root directory (changed by the create).
  EXPECT_GE(own->size, kMiB / 2);
  EXPECT_LT(own->size, kMiB);
  EXPECT_EQ(own->inodes, 2);
}

TEST_F(BtrfsPluginTest, QgroupUsageWhenQuotasAreOn) {
  ASSERT_NO_FATAL_FAILURE(use(LoopFilesystems::kBtrfsQuotas));
  ASSERT_NO_FATAL_FAILURE(create_ok(R"({"usage-source": "qgroups"})"));
  EXPECT_EQ(status_of(driver_->info(), "Usage Source"), "qgroups");
  EXPECT_EQ(status_of(driver_->info(), "Quotas"), "enabled");
  constexpr int64_t kMiB = 1 << 20;
  layer("base", "", "big", 2 * kMiB);
  auto alone = driver_->usage(ctx_, "base");
  ASSERT_TRUE(alone.has_value()) << alone.error().message;
  EXPECT_GE(alone->size, 2 * kMiB);
  EXPECT_LT(alone->size, 2 * kMiB + kMiB / 4);
  auto child = driver_->prepare(ctx_, "child", "base", {});
  ASSERT_TRUE(child.has_value());
  ASSERT_TRUE(write_file(child->front().source + "/small", std::string(kMiB / 2, 's')).has_value());
  auto own = driver_->usage(ctx_, "child");
  ASSERT_TRUE(own.has_value()) << own.error().message;
  EXPECT_GE(own->size, kMiB / 2);
  EXPECT_LT(own->size, kMiB);
  // qgroups count a layer's shared bytes as nobody's: documented, and why "measured" exists.
  auto shared = driver_->usage(ctx_, "base");
  ASSERT_TRUE(shared.has_value());
  EXPECT_LT(shared->size, kMiB);
  driver_.reset();
  ASSERT_NO_FATAL_FAILURE(create_ok(R"({"usage-source": "measured"})"));
  EXPECT_TRUE(contains(status_of(driver_->info(), "Usage Source"), "measured"));
  auto measured = driver_->usage(ctx_, "base");
  ASSERT_TRUE(measured.has_value());
  EXPECT_GE(measured->size, 2 * kMiB);
}

// ---- crashes and restarts -------------------------------------------------------------------

TEST_F(BtrfsPluginTest, CleanupDeletesCrashLeftoversOnly) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  layer("base", "", "b", 10);
  auto live = driver_->prepare(ctx_, "live", "base", {});
  ASSERT_TRUE(live.has_value());
  const std::string live_dir = live->front().source;
  ASSERT_TRUE(write_file(live_dir + "/data", "keep me").has_value());
  driver_.reset();

  // What a crash can leave: a subvolume whose record was never written (writable or already
  // read-only), a half-written record, a probe subvolume, foreign junk.
  ASSERT_TRUE(make_subvolume(root_ + "/snapshots", "77"));
  ASSERT_TRUE(write_file(root_ + "/snapshots/77/f", "orphan").has_value());
  ASSERT_TRUE(make_subvolume(root_ + "/snapshots", "78"));
  ASSERT_TRUE(set_subvolume_read_only(root_ + "/snapshots/78", true));
  ASSERT_TRUE(make_dirs(root_ + "/snapshots/rm-3/deep").has_value());
  ASSERT_TRUE(write_file(root_ + "/metadata/79.json.tmp", "{half").has_value());  // older writer
  ASSERT_TRUE(write_file(root_ + "/metadata/.79.json.tmp-Ab3dE6", "{half").has_value());
  ASSERT_TRUE(make_subvolume(root_, "probe-abcdef"));

  ASSERT_NO_FATAL_FAILURE(create_ok());
  EXPECT_FALSE(exists(root_ + "/metadata/79.json.tmp")) << "a partial record survived the load";
  EXPECT_FALSE(exists(root_ + "/metadata/.79.json.tmp-Ab3dE6")) << "a partial record survived";
  auto all = driver_->walk(ctx_, {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 2u) << "orphans must not appear as snapshots";
  auto fresh = driver_->prepare(ctx_, "fresh", "", {});
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message;
  EXPECT_NE(fresh->front().source, root_ + "/snapshots/77");
  EXPECT_NE(fresh->front().source, root_ + "/snapshots/78");

  auto s = driver_->cleanup(ctx_);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  for (const char* gone : {"/snapshots/77", "/snapshots/78", "/snapshots/rm-3", "/probe-abcdef"}) {
    EXPECT_FALSE(exists(root_ + gone)) << gone;
  }
  EXPECT_EQ(read_file(live_dir + "/data").value_or(""), "keep me");
  auto after = driver_->walk(ctx_, {});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->size(), 3u);
}

TEST_F(BtrfsPluginTest, InterruptedCommitIsSettledAtStart) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  const std::string base = layer("base", "", "b", 10);
  auto active = driver_->prepare(ctx_, "active", "base", {});
  ASSERT_TRUE(active.has_value());
  const std::string rw = active->front().source;
  driver_.reset();
  // A crash between "read-only" and the record of a commit: the active snapshot is frozen but
  // still active. And a committed layer someone made writable.
  ASSERT_TRUE(set_subvolume_read_only(rw, true));
  ASSERT_TRUE(set_subvolume_read_only(base, false));
  ASSERT_NO_FATAL_FAILURE(create_ok());
  EXPECT_FALSE(is_read_only_subvolume(rw)) << "the interrupted commit was not undone";
  EXPECT_TRUE(can_create_file(rw));
  EXPECT_TRUE(is_read_only_subvolume(base)) << "a committed layer was left writable";
  ASSERT_TRUE(driver_->commit(ctx_, "top", "active", {}).has_value());
}

TEST_F(BtrfsPluginTest, CorruptOrForeignRecordStopsCreateNamingTheFile) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  ASSERT_TRUE(driver_->prepare(ctx_, "a", "", {}).has_value());
  driver_.reset();
  ASSERT_TRUE(write_file(root_ + "/metadata/1.json", "{not json").has_value());
  auto d = create();
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(contains(d.error().message, "1.json")) << d.error().message;
  // The overlay driver's record shape (no "driver"): never read as a btrfs snapshot.
  ASSERT_TRUE(write_file(root_ + "/metadata/1.json",
                         R"({"version":1,"id":1,"name":"a","parent":"","kind":"active",)"
                         R"("labels":{},"created_unix_nano":1,"updated_unix_nano":1})")
                  .has_value());
  d = create();
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(contains(d.error().message, "not a record of the btrfs driver")) << d.error().message;
}

TEST_F(BtrfsPluginTest, RecordWithMissingParentStopsCreate) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  layer("base", "", "b", 1);
  ASSERT_TRUE(driver_->prepare(ctx_, "child", "base", {}).has_value());
  driver_.reset();
  ASSERT_EQ(::unlink((root_ + "/metadata/1.json").c_str()), 0);
  auto d = create();
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(contains(d.error().message, "base")) << d.error().message;
}

}  // namespace
}  // namespace berth::tests
