// The overlay plugin's own behaviour beyond the shared suite, through the real .so: config
// validation, the backing filesystems it refuses, the mount specs it returns, and what it does
// with the leftovers of a crash. Creating the driver runs a probe mount, so these need root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "berth/sdk/mount.hpp"
#include "berth/sdk/testing/fs.hpp"
#include "tests/conformance/overlay_plugin.hpp"

namespace berth::tests {
namespace {

using sdk::ErrorCode;
using sdk::Mount;
using sdk::testing::exists;
using sdk::testing::make_dirs;
using sdk::testing::TempDir;
using sdk::testing::write_file;

class OverlayPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "creating an overlay driver needs root (probe mount)";
    auto t = TempDir::create({}, "berth-overlay-plugin-test-");
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
    EXPECT_TRUE(tmp_.remove().has_value());
  }

  sdk::Result<std::unique_ptr<sdk::StorageDriver>> create(const std::string& config = "{}") {
    return create_overlay(root_, state_, config);
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
    EXPECT_NE(d.error().message.find(mentions), std::string::npos)
        << "\"" << d.error().message << "\" does not mention " << mentions;
  }
  static std::string option(const Mount& m, const std::string& key) {
    for (const auto& o : m.options) {
      if (o.rfind(key + "=", 0) == 0) return o.substr(key.size() + 1);
    }
    return {};
  }

  TempDir tmp_;
  std::string root_, state_;
  sdk::Context ctx_{"plugin-test"};
  std::unique_ptr<sdk::StorageDriver> driver_;
};

// ---- configuration ----------------------------------------------------------------------------

TEST_F(OverlayPluginTest, EmptyConfigsAreAccepted) {
  for (const char* config : {"", "{}", "  ", "null"}) {
    auto d = create(config);
    EXPECT_TRUE(d.has_value()) << "config \"" << config << "\": " << d.error().message;
  }
}

TEST_F(OverlayPluginTest, UnknownKeyIsRejectedByName) {
  expect_invalid_config(R"({"mount_options": [], "mountoptions": ["x"]})", "\"mountoptions\"");
}

TEST_F(OverlayPluginTest, WrongTypesAreRejectedByName) {
  expect_invalid_config(R"({"mount_options": "metacopy=on"})", "mount_options");
  expect_invalid_config(R"({"mount_options": ["index=off", 3]})", "mount_options[1]");
  expect_invalid_config(R"({"mount_options": [""]})", "mount_options[0]");
  expect_invalid_config(R"({"mount_options": ["a,b"]})", "comma");
  expect_invalid_config(R"(["mount_options"])", "object");
  expect_invalid_config(R"({"mount_options": [)", "JSON");
}

TEST_F(OverlayPluginTest, DriverOwnedOptionsAreRejected) {
  expect_invalid_config(R"({"mount_options": ["upperdir=/x"]})", "upperdir");
  expect_invalid_config(R"({"mount_options": ["lowerdir+=/x"]})", "lowerdir");
  expect_invalid_config(R"({"mount_options": ["workdir=/x"]})", "workdir");
}

TEST_F(OverlayPluginTest, OptionsTheKernelRefusesAreRejectedAtCreate) {
  expect_invalid_config(R"({"mount_options": ["no_such_overlay_option=1"]})", "mount_options");
}

TEST_F(OverlayPluginTest, ConfiguredOptionsReachTheOverlayMounts) {
  ASSERT_NO_FATAL_FAILURE(create_ok(R"({"mount_options": ["redirect_dir=on"]})"));
  ASSERT_TRUE(driver_->prepare(ctx_, "a", "", {}).has_value());
  ASSERT_TRUE(driver_->commit(ctx_, "base", "a", {}).has_value());
  auto mounts = driver_->prepare(ctx_, "child", "base", {});
  ASSERT_TRUE(mounts.has_value()) << mounts.error().message;
  ASSERT_EQ(mounts->size(), 1u);
  const auto& opts = mounts->front().options;
  EXPECT_NE(std::find(opts.begin(), opts.end(), "redirect_dir=on"), opts.end());
  ASSERT_TRUE(make_dirs(tmp_.sub("merged")).has_value());
  auto m = sdk::ScopedMounts::mount(*mounts, tmp_.sub("merged"));
  ASSERT_TRUE(m.has_value()) << m.error().message;
}

// ---- host checks --------------------------------------------------------------------------------

TEST_F(OverlayPluginTest, RootOnOverlayIsUnsupported) {
  // The kernel refuses an overlay upper dir on overlayfs ("not supported as upperdir").
  for (const char* d : {"/l", "/u", "/w", "/m"})
    ASSERT_TRUE(make_dirs(tmp_.sub("ovl") + d).has_value());
  const std::string ovl = tmp_.sub("ovl");
  auto m = sdk::ScopedMounts::mount(
      {Mount{"overlay",
             "overlay",
             "",
             {"lowerdir=" + ovl + "/l", "upperdir=" + ovl + "/u", "workdir=" + ovl + "/w"}}},
      ovl + "/m");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  auto d = create_overlay(ovl + "/m/root", state_);
  ASSERT_FALSE(d.has_value()) << "overlay accepted a root on overlayfs";
  EXPECT_EQ(sdk::error_code_name(d.error().code), "unsupported") << d.error().message;
  EXPECT_NE(d.error().message.find("overlay filesystem"), std::string::npos) << d.error().message;
}

TEST_F(OverlayPluginTest, RootOnTmpfsWorks) {
  const std::string t = tmp_.sub("tmpfs");
  ASSERT_TRUE(make_dirs(t).has_value());
  auto m = sdk::ScopedMounts::mount({Mount{"tmpfs", "tmpfs", "", {"size=16m"}}}, t);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  {
    auto d = create_overlay(t + "/root", state_);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    auto info = (*d)->info();
    auto it = std::find_if(info.status.begin(), info.status.end(),
                           [](const auto& kv) { return kv.first == "Backing Filesystem"; });
    ASSERT_NE(it, info.status.end());
    EXPECT_EQ(it->second, "tmpfs");
  }
}

TEST_F(OverlayPluginTest, InfoShowsDockerStyleStatus) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  auto info = driver_->info();
  EXPECT_EQ(info.name, "overlay");
  auto value = [&](const std::string& key) -> std::string {
    for (const auto& [k, v] : info.status) {
      if (k == key) return v;
    }
    return "<absent>";
  };
  EXPECT_NE(value("Backing Filesystem"), "<absent>");
  EXPECT_EQ(value("Supports d_type"), "true");
  EXPECT_EQ(value("Using metacopy"), "false");
}

TEST_F(OverlayPluginTest, BadRootsAreRejected) {
  auto relative = create_overlay("relative/root", state_);
  ASSERT_FALSE(relative.has_value());
  EXPECT_EQ(relative.error().code, ErrorCode::kInvalidArgument);
  auto colon = create_overlay(tmp_.sub("with:colon"), state_);
  ASSERT_FALSE(colon.has_value());
  EXPECT_EQ(colon.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(exists(tmp_.sub("with:colon")));
}

// ---- mount specs --------------------------------------------------------------------------------

TEST_F(OverlayPluginTest, MountSpecsFollowTheOverlaySnapshotterLayout) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  const std::string snapshots = root_ + "/snapshots/";
  auto first = driver_->prepare(ctx_, "sha256:aaaa", "", {});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ(first->front().type, "bind");
  EXPECT_EQ(first->front().options, (std::vector<std::string>{"rbind", "rw"}));
  const std::string base_fs = first->front().source;
  EXPECT_EQ(base_fs.rfind(snapshots, 0), 0u) << base_fs;
  EXPECT_EQ(base_fs.find("sha256"), std::string::npos) << "a key became a path: " << base_fs;
  ASSERT_TRUE(driver_->commit(ctx_, "base", "sha256:aaaa", {}).has_value());

  auto second = driver_->prepare(ctx_, "second", "base", {});
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(driver_->commit(ctx_, "mid", "second", {}).has_value());
  const std::string mid_fs = option(second->front(), "upperdir");
  ASSERT_FALSE(mid_fs.empty());
  EXPECT_FALSE(exists(option(second->front(), "workdir"))) << "commit keeps a dead work dir";

  auto active = driver_->prepare(ctx_, "container", "mid", {});
  ASSERT_TRUE(active.has_value());
  const Mount& m = active->front();
  EXPECT_EQ(m.type, "overlay");
  EXPECT_EQ(option(m, "lowerdir"), mid_fs + ":" + base_fs) << "lower dirs are nearest first";
  EXPECT_EQ(m.options.back().rfind("lowerdir=", 0), 0u);
  EXPECT_TRUE(exists(option(m, "workdir")));
  EXPECT_TRUE(exists(option(m, "upperdir")));

  auto one = driver_->view(ctx_, "view-1", "base", {});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->front().type, "bind");
  EXPECT_EQ(one->front().source, base_fs);
  EXPECT_EQ(one->front().options, (std::vector<std::string>{"rbind", "ro"}));

  auto two = driver_->view(ctx_, "view-2", "mid", {});
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->front().type, "overlay");
  EXPECT_EQ(option(two->front(), "lowerdir"), mid_fs + ":" + base_fs);
  EXPECT_TRUE(option(two->front(), "upperdir").empty());
  EXPECT_TRUE(option(two->front(), "workdir").empty());
}

TEST_F(OverlayPluginTest, ChildRootInheritsTheParentRootMode) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  auto first = driver_->prepare(ctx_, "a", "", {});
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(::chmod(first->front().source.c_str(), 0710), 0);
  ASSERT_EQ(::chown(first->front().source.c_str(), 123, 456), 0);
  ASSERT_TRUE(driver_->commit(ctx_, "base", "a", {}).has_value());
  auto child = driver_->prepare(ctx_, "child", "base", {});
  ASSERT_TRUE(child.has_value());
  const std::string merged = tmp_.sub("merged");
  ASSERT_TRUE(make_dirs(merged).has_value());
  auto m = sdk::ScopedMounts::mount(*child, merged);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(merged.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_EQ(st.st_uid, 123u);
  EXPECT_EQ(st.st_gid, 456u);
}

// ---- crashes and restarts -------------------------------------------------------------------

TEST_F(OverlayPluginTest, CleanupRemovesCrashLeftoversOnly) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  ASSERT_TRUE(driver_->prepare(ctx_, "a", "", {}).has_value());
  ASSERT_TRUE(driver_->commit(ctx_, "base", "a", {}).has_value());
  auto live = driver_->prepare(ctx_, "live", "base", {});
  ASSERT_TRUE(live.has_value());
  const std::string live_upper = option(live->front(), "upperdir");
  ASSERT_TRUE(write_file(live_upper + "/data", "keep me").has_value());
  driver_.reset();

  // What a crash can leave: a snapshot dir whose record was never written (or already removed),
  // a half-written record, a committed layer's work dir, a probe scratch tree, foreign junk.
  ASSERT_TRUE(make_dirs(root_ + "/snapshots/77/fs/deep/tree").has_value());
  ASSERT_TRUE(write_file(root_ + "/snapshots/77/fs/deep/tree/f", "orphan").has_value());
  ASSERT_TRUE(make_dirs(root_ + "/snapshots/rm-3").has_value());
  ASSERT_TRUE(write_file(root_ + "/metadata/78.json.tmp", "{half").has_value());  // older writer
  ASSERT_TRUE(write_file(root_ + "/metadata/.78.json.tmp-Ab3dE6", "{half").has_value());
  ASSERT_TRUE(make_dirs(root_ + "/probe-abcdef/merged").has_value());

  ASSERT_NO_FATAL_FAILURE(create_ok());
  EXPECT_FALSE(exists(root_ + "/metadata/78.json.tmp")) << "a partial record survived the load";
  EXPECT_FALSE(exists(root_ + "/metadata/.78.json.tmp-Ab3dE6")) << "a partial record survived";
  auto all = driver_->walk(ctx_, {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 2u) << "orphans must not appear as snapshots";
  // A new snapshot never reuses an orphan's id.
  auto fresh = driver_->prepare(ctx_, "fresh", "", {});
  ASSERT_TRUE(fresh.has_value());
  EXPECT_NE(fresh->front().source, root_ + "/snapshots/77/fs");
  ASSERT_TRUE(driver_->commit(ctx_, "fresh-layer", "fresh", {}).has_value());

  auto s = driver_->cleanup(ctx_);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_FALSE(exists(root_ + "/snapshots/77"));
  EXPECT_FALSE(exists(root_ + "/snapshots/rm-3"));
  EXPECT_FALSE(exists(root_ + "/probe-abcdef"));
  EXPECT_EQ(sdk::testing::read_file(live_upper + "/data").value_or(""), "keep me");
  auto after = driver_->walk(ctx_, {});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->size(), 3u);
}

TEST_F(OverlayPluginTest, CorruptRecordStopsCreateNamingTheFile) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  ASSERT_TRUE(driver_->prepare(ctx_, "a", "", {}).has_value());
  driver_.reset();
  ASSERT_TRUE(write_file(root_ + "/metadata/1.json", "{not json").has_value());
  auto d = create();
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message.find("1.json"), std::string::npos) << d.error().message;
}

TEST_F(OverlayPluginTest, RecordWithMissingParentStopsCreate) {
  ASSERT_NO_FATAL_FAILURE(create_ok());
  ASSERT_TRUE(driver_->prepare(ctx_, "a", "", {}).has_value());
  ASSERT_TRUE(driver_->commit(ctx_, "base", "a", {}).has_value());
  ASSERT_TRUE(driver_->prepare(ctx_, "child", "base", {}).has_value());
  driver_.reset();
  ASSERT_EQ(::unlink((root_ + "/metadata/1.json").c_str()), 0);
  auto d = create();
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message.find("base"), std::string::npos) << d.error().message;
}

}  // namespace
}  // namespace berth::tests
