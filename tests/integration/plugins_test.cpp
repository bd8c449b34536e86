// Plugins as a user meets them: bad plugins next to good ones are refused with one clear log
// line and listed with their reasons; a configured driver that is not available stops startup
// with a table of every plugin.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "berth/sdk/version.h"
#include "tests/support/berthd_process.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace berth::testing;

namespace {

class PluginsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "integration tests run berthd as root";
    plugins_ = dir_.path() / "plugins";
    fs::create_directories(plugins_);
    fs::permissions(plugins_, fs::perms(0755));
    copy(build_dir() + "/lib/berth/plugins/berth-storage-overlay.so", "berth-storage-overlay.so");
  }
  void copy(const std::string& from, const std::string& name) {
    fs::copy_file(from, plugins_ / name, fs::copy_options::overwrite_existing);
    fs::permissions(plugins_ / name, fs::perms(0644));
  }
  void copy_fixture(const std::string& fixture) {
    copy(std::string(BERTH_FIXTURE_DIR) + "/berth-fixture-" + fixture + ".so",
         "berth-" + fixture + ".so");
  }
  BerthdOptions options() { return BerthdOptions{{"--plugin-dir", plugins_.string()}}; }

  TempDir dir_{"berth-plugins"};
  fs::path plugins_;
};

TEST_F(PluginsTest, IncompatiblePluginsAreRefusedWithOneClearLineEach) {
  copy_fixture("abi_major_mismatch");
  copy_fixture("abi_major_old");
  copy_fixture("abi_minor_newer");
  copy_fixture("init_fails");
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start(options())) << d.log();
  std::string log = d.log();
  std::string accepted = std::to_string(BERTH_SDK_ABI_MAJOR) + "." + std::to_string(BERTH_SDK_ABI_MINOR);
  // One line per refusal naming the file, the plugin, its ABI, what we accept and the fix.
  std::string minor_file = (plugins_ / "berth-abi_minor_newer.so").string();
  size_t at = log.find("plugin rejected: file=" + minor_file);
  ASSERT_NE(at, std::string::npos) << log;
  std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("plugin=\"raw-abi_minor_newer 9.9.9\""), std::string::npos) << line;
  EXPECT_NE(line.find("abi=" + std::to_string(BERTH_SDK_ABI_MAJOR) + "." +
                      std::to_string(BERTH_SDK_ABI_MINOR + 1)),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("accepted-abi=" + accepted), std::string::npos) << line;
  EXPECT_NE(line.find("fix=\"rebuild the plugin against Berth SDK"), std::string::npos) << line;
  EXPECT_NE(log.find("plugin rejected: file=" + (plugins_ / "berth-abi_major_mismatch.so").string()),
            std::string::npos);
  // A plugin of the previous ABI major is refused with the fix (rebuild against this SDK), and
  // the daemon runs on.
  std::string old_file = (plugins_ / "berth-abi_major_old.so").string();
  size_t old_at = log.find("plugin rejected: file=" + old_file);
  ASSERT_NE(old_at, std::string::npos) << log;
  std::string old_line = log.substr(old_at, log.find('\n', old_at) - old_at);
  EXPECT_NE(old_line.find("older than this berthd's " + std::to_string(BERTH_SDK_ABI_MAJOR)),
            std::string::npos) << old_line;
  EXPECT_NE(old_line.find("fix=\"rebuild the plugin against Berth SDK " BERTH_SDK_VERSION " (ABI " +
                          accepted + ")"),
            std::string::npos) << old_line;
  EXPECT_NE(log.find("plugin failed: file=" + (plugins_ / "berth-init_fails.so").string()),
            std::string::npos);

  auto r = d.client().get("/v1.41/plugins");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::map<std::string, json::object> by_id;
  json::value plugins = json::parse(r->body);
  for (const auto& p : plugins.as_array()) {
    by_id[std::string(p.as_object().at("Id").as_string())] = p.as_object();
  }
  EXPECT_EQ(by_id.at("storage.overlay").at("State").as_string(), "ok");
  EXPECT_EQ(by_id.at("berth-abi_major_mismatch.so").at("State").as_string(), "rejected");
  EXPECT_EQ(by_id.at("berth-abi_minor_newer.so").at("State").as_string(), "rejected");
  EXPECT_EQ(by_id.at("berth-init_fails.so").at("State").as_string(), "failed");
  EXPECT_EQ(by_id.at("berth-init_fails.so").at("Reason").as_string(),
            "init failed: license server unreachable");

  // The CLI shows the same table.
  if (fs::exists(berth_binary())) {
    auto ls = d.berth({"plugin", "ls"});
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    EXPECT_NE(ls.out.find("storage.overlay"), std::string::npos) << ls.out;
    EXPECT_NE(ls.out.find("rejected"), std::string::npos) << ls.out;
    EXPECT_NE(ls.out.find("license server unreachable"), std::string::npos) << ls.out;
  }
}

TEST_F(PluginsTest, UnavailableStorageDriverStopsStartupWithATable) {
  copy_fixture("init_fails");
  BerthdProcess d(dir_.path());
  auto o = options();
  o.args.push_back("--storage-driver");
  o.args.push_back("btrfs");
  auto s = d.start(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(d.wait_exit(), 1);
  std::string log = d.log();
  EXPECT_NE(log.find("storage driver \"btrfs\" (storage.btrfs) is not found in any plugin directory"),
            std::string::npos)
      << log;
  // The table: a header and a row per plugin, with states and reasons.
  EXPECT_NE(log.find("ID"), std::string::npos);
  EXPECT_NE(log.find("STATE"), std::string::npos);
  EXPECT_NE(log.find("storage.overlay"), std::string::npos);
  EXPECT_NE(log.find("berth-init_fails.so"), std::string::npos);
  EXPECT_NE(log.find("license server unreachable"), std::string::npos);
  EXPECT_FALSE(fs::exists(d.socket()));
}

TEST_F(PluginsTest, RequiredPluginMissingStopsStartup) {
  BerthdProcess d(dir_.path());
  auto o = options();
  o.config_json = R"({"required-plugins": ["network.bridge"]})";
  auto s = d.start(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(d.wait_exit(), 1);
  EXPECT_NE(d.log().find("required plugin \"network.bridge\" is not found in any plugin directory"),
            std::string::npos)
      << d.log();
}

TEST_F(PluginsTest, WorldWritablePluginIsRefused) {
  copy_fixture("init_fails");
  fs::permissions(plugins_ / "berth-init_fails.so", fs::perms(0666));
  BerthdProcess d(dir_.path());
  ASSERT_TRUE(d.start(options())) << d.log();
  EXPECT_NE(d.log().find("insecure permissions: writable by group or others (mode 0666)"),
            std::string::npos)
      << d.log();
}

TEST_F(PluginsTest, DriverConfigSectionReachesThePlugin) {
  BerthdProcess d(dir_.path());
  auto o = options();
  o.config_json = R"({"plugins": {"storage.overlay": {"no-such-option": true}}})";
  auto s = d.start(o);
  ASSERT_FALSE(s);
  EXPECT_NE(d.log().find("no-such-option"), std::string::npos) << d.log();
}

}  // namespace
