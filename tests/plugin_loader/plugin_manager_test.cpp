// berthd's plugin policy over real fixture files in a temporary plugin directory: states and
// reasons per plugin, trust checks, duplicates, required and disabled plugins, the startup table.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/plugin/plugin_manager.hpp"

namespace fs = std::filesystem;
using berth::core::config::DaemonConfig;
using berth::core::plugin::PluginManager;
using berth::core::plugin::PluginRecord;

namespace {

class PluginManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the trust check wants root-owned plugin files; run as root";
    root_ = fs::temp_directory_path() / ("berth-pm-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "plugins");
    fs::permissions(root_ / "plugins", fs::perms(0755));
    config_.data_root = (root_ / "data").string();
    config_.exec_root = (root_ / "exec").string();
    config_.storage_driver = "fake";
    config_.isolation_backend = "none";
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  void add(const std::string& fixture, const std::string& as = "") {
    auto src = std::string(BERTH_FIXTURE_DIR) + "/berth-fixture-" + fixture + ".so";
    auto dst = root_ / "plugins" / (as.empty() ? "berth-" + fixture + ".so" : as);
    fs::copy_file(src, dst, fs::copy_options::overwrite_existing);
    fs::permissions(dst, fs::perms(0644));
  }
  berth::Result<std::unique_ptr<PluginManager>> start() {
    return PluginManager::start(config_, {(root_ / "plugins").string()});
  }
  static const PluginRecord& find(const std::vector<PluginRecord>& records, const std::string& id) {
    for (const auto& r : records) {
      if (r.id == id) return r;
    }
    static PluginRecord none;
    ADD_FAILURE() << "no record " << id;
    return none;
  }

  fs::path root_;
  DaemonConfig config_;
};

TEST_F(PluginManagerTest, StartsWithTheConfiguredStorageDriver) {
  add("ok_fake_storage");
  auto pm = start();
  ASSERT_TRUE(pm) << pm.error().message;
  EXPECT_EQ((*pm)->storage_name(), "fake");
  auto records = (*pm)->records();
  const auto& r = find(records, "storage.fake");
  EXPECT_EQ(r.state, "ok");
  EXPECT_EQ(r.plugin, "fake-storage");
  EXPECT_EQ(r.version, "1.2.3");
  EXPECT_EQ(r.abi, std::to_string(BERTH_SDK_ABI_MAJOR) + "." + std::to_string(BERTH_SDK_ABI_MINOR));
  ASSERT_EQ(r.status.size(), 1u);
  // The driver got its own root under data-root.
  EXPECT_EQ(r.status[0].second, config_.data_root + "/plugins/storage.fake");
}

TEST_F(PluginManagerTest, BadPluginsAreListedWithReasonsAndDoNotStopStartup) {
  add("ok_fake_storage");
  add("abi_major_mismatch");
  add("abi_minor_newer");
  add("missing_entry");
  add("not_elf");
  add("init_throws");
  add("init_fails");
  auto pm = start();
  ASSERT_TRUE(pm) << pm.error().message;
  auto records = (*pm)->records();
  const auto& major = find(records, "berth-abi_major_mismatch.so");
  EXPECT_EQ(major.state, "rejected");
  EXPECT_NE(major.reason.find("built for SDK ABI major"), std::string::npos);
  EXPECT_NE(major.fix.find("rebuild the plugin against Berth SDK"), std::string::npos);
  const auto& minor = find(records, "berth-abi_minor_newer.so");
  EXPECT_EQ(minor.state, "rejected");
  EXPECT_EQ(minor.plugin, "raw-abi_minor_newer");
  EXPECT_EQ(minor.vendor, "acme");
  EXPECT_NE(minor.reason.find("newer SDK ABI minor"), std::string::npos);
  EXPECT_EQ(find(records, "berth-missing_entry.so").state, "rejected");
  EXPECT_EQ(find(records, "berth-not_elf.so").state, "rejected");
  const auto& thrower = find(records, "berth-init_throws.so");
  EXPECT_EQ(thrower.state, "failed");
  EXPECT_EQ(thrower.reason, "init failed: init threw: boom from init");
  EXPECT_EQ(find(records, "berth-init_fails.so").reason, "init failed: license server unreachable");
}

TEST_F(PluginManagerTest, WritablePluginIsRejectedForItsPermissions) {
  add("ok_fake_storage");
  add("ok_fake_storage", "berth-writable.so");
  ::chmod((root_ / "plugins" / "berth-writable.so").c_str(), 0666);
  auto pm = start();
  ASSERT_TRUE(pm) << pm.error().message;
  auto records = (*pm)->records();
  const auto& r = find(records, "berth-writable.so");
  EXPECT_EQ(r.state, "rejected");
  EXPECT_EQ(r.reason, "insecure permissions: writable by group or others (mode 0666)");
  EXPECT_EQ(r.fix, "chmod go-w " + (root_ / "plugins" / "berth-writable.so").string());
}

TEST_F(PluginManagerTest, DuplicateDriverIdStopsStartupNamingBothFiles) {
  add("ok_fake_storage");
  add("duplicate_id");
  auto pm = start();
  ASSERT_FALSE(pm);
  EXPECT_NE(pm.error().message.find("driver storage.fake is provided by both"), std::string::npos);
  EXPECT_NE(pm.error().message.find("berth-duplicate_id.so"), std::string::npos);
  EXPECT_NE(pm.error().message.find("berth-ok_fake_storage.so"), std::string::npos);
}

TEST_F(PluginManagerTest, MissingStorageDriverStopsStartupWithATable) {
  add("abi_major_mismatch");
  add("init_fails");
  config_.storage_driver = "zfs";
  auto pm = start();
  ASSERT_FALSE(pm);
  const auto& m = pm.error().message;
  EXPECT_NE(m.find("storage driver \"zfs\" (storage.zfs) is not found in any plugin directory"),
            std::string::npos) << m;
  EXPECT_NE(m.find("ID"), std::string::npos);
  EXPECT_NE(m.find("berth-abi_major_mismatch.so"), std::string::npos) << m;
  EXPECT_NE(m.find("license server unreachable"), std::string::npos) << m;
}

TEST_F(PluginManagerTest, UnsupportedDriverIsSkippedAndStopsStartupWhenConfigured) {
  add("ok_fake_storage");
  config_.plugins["storage.fake"] = R"({"unsupported": true})";
  auto pm = start();
  ASSERT_FALSE(pm);
  EXPECT_NE(pm.error().message.find(
                "storage driver \"fake\" (storage.fake) is skipped: fake storage is not supported "
                "here: asked by config"),
            std::string::npos)
      << pm.error().message;
}

TEST_F(PluginManagerTest, DriverConfigErrorFailsTheDriver) {
  add("ok_fake_storage");
  config_.plugins["storage.fake"] = R"({"fail": true})";
  auto pm = start();
  ASSERT_FALSE(pm);
  EXPECT_NE(pm.error().message.find("is failed: fake storage: bad config"), std::string::npos)
      << pm.error().message;
}

TEST_F(PluginManagerTest, DisabledPluginsAreNotLoaded) {
  add("ok_fake_storage");
  add("init_fails");
  config_.disabled_plugins = {"init_fails"};
  auto pm = start();
  ASSERT_TRUE(pm) << pm.error().message;
  auto records = (*pm)->records();
  const auto& r = find(records, "berth-init_fails.so");
  EXPECT_EQ(r.state, "disabled");
}

TEST_F(PluginManagerTest, RequiredPluginThatFailedStopsStartup) {
  add("ok_fake_storage");
  add("init_fails");
  config_.required_plugins = {"init_fails"};
  auto pm = start();
  ASSERT_FALSE(pm);
  EXPECT_NE(pm.error().message.find("required plugin \"init_fails\" is not ok"), std::string::npos)
      << pm.error().message;
}

TEST_F(PluginManagerTest, RequiredPluginThatLoadedIsFine) {
  add("ok_fake_storage");
  config_.required_plugins = {"storage.fake"};
  auto pm = start();
  ASSERT_TRUE(pm) << pm.error().message;
}

}  // namespace
