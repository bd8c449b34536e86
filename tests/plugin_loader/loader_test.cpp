// The SDK's host loader against real plugin files: every refusal case, and calls through the C
// ABI in both directions (values, errors, exceptions turned into statuses).
#include <gtest/gtest.h>

#include <filesystem>

#include "berth/sdk/host/plugin_library.hpp"

namespace host = berth::sdk::host;
namespace sdk = berth::sdk;

namespace {

std::string fixture(const std::string& name) {
  return std::string(BERTH_FIXTURE_DIR) + "/berth-fixture-" + name + ".so";
}

class NullLogger final : public sdk::Logger {
 public:
  bool enabled(sdk::LogLevel) const noexcept override { return true; }
  void write(sdk::LogLevel, std::string_view m, const sdk::Field* fields, size_t count) noexcept override {
    last = std::string(m);
    for (size_t i = 0; i < count; ++i) {
      last += " " + std::string(fields[i].key) + "=" + std::string(fields[i].value);
    }
  }
  std::string last;
};

TEST(PluginLoader, LoadsAWellFormedPluginAndItsDriver) {
  auto file = host::load_plugin(fixture("ok_fake_storage"));
  ASSERT_EQ(file.outcome, host::LoadOutcome::kLoaded) << file.reason;
  EXPECT_EQ(file.name, "fake-storage");
  EXPECT_EQ(file.version, "1.2.3");
  EXPECT_EQ(file.vendor, "berth-tests");
  EXPECT_EQ(file.abi_major, static_cast<uint32_t>(BERTH_SDK_ABI_MAJOR));
  ASSERT_EQ(file.drivers.size(), 1u);
  EXPECT_EQ(file.drivers[0].id(), "storage.fake");
}

// The README's "Writing a driver" example (sdk/examples/network-acme), as written, loads and
// works through the C ABI.
TEST(PluginLoader, TheReadmeExampleLoadsAndRuns) {
  auto file = host::load_plugin(std::string(BERTH_FIXTURE_DIR) + "/berth-example-network-acme.so");
  ASSERT_EQ(file.outcome, host::LoadOutcome::kLoaded) << file.reason;
  EXPECT_EQ(file.name, "network-acme");
  EXPECT_EQ(file.vendor, "Acme Corp");
  ASSERT_EQ(file.drivers.size(), 1u);
  EXPECT_EQ(file.drivers[0].id(), "network.acme");
  NullLogger log;
  host::HostInit init;
  init.driver_id = "network.acme";
  init.log = &log;
  auto driver = host::create_network(file.drivers[0], init);
  ASSERT_TRUE(driver) << driver.error().message;
  EXPECT_EQ(log.last, "acme network driver ready");
  EXPECT_EQ((*driver)->info().name, "acme");
  sdk::Context ctx("req-1");
  sdk::NetworkSpec spec;
  spec.id = "n1";
  ASSERT_TRUE((*driver)->create_network(ctx, spec));
  EXPECT_TRUE((*driver)->delete_network(ctx, "n1"));
  auto again = (*driver)->delete_network(ctx, "n1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, sdk::ErrorCode::kNotFound);
  auto join = (*driver)->join(ctx, sdk::JoinSpec{});
  ASSERT_FALSE(join);
  EXPECT_EQ(join.error().code, sdk::ErrorCode::kUnsupported);
  EXPECT_EQ(join.error().message, "acme joins nothing");
}

TEST(PluginLoader, CallsCrossTheAbiBothWays) {
  auto file = host::load_plugin(fixture("ok_fake_storage"));
  ASSERT_EQ(file.outcome, host::LoadOutcome::kLoaded) << file.reason;
  NullLogger log;
  host::HostInit init;
  init.driver_id = "storage.fake";
  init.root_dir = "/nonexistent/fake-root";
  init.log = &log;
  auto driver = host::create_storage(file.drivers[0], init);
  ASSERT_TRUE(driver) << driver.error().message;
  EXPECT_EQ(log.last, "fake storage created root=/nonexistent/fake-root");

  sdk::Context ctx("req-1");
  auto mounts = (*driver)->prepare(ctx, "layer1", "", {{"a", "b"}});
  ASSERT_TRUE(mounts) << mounts.error().message;
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].type, "bind");
  EXPECT_EQ((*mounts)[0].source, "/nonexistent/fake-root/layer1");
  EXPECT_EQ((*mounts)[0].options, (std::vector<std::string>{"rbind", "rw"}));

  ASSERT_TRUE((*driver)->commit(ctx, "sha256:abc", "layer1", {}));
  auto info = (*driver)->stat(ctx, "sha256:abc");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->kind, sdk::SnapshotKind::kCommitted);
  EXPECT_EQ(info->labels.at("a"), "b");

  auto dup = (*driver)->prepare(ctx, "sha256:abc", "", {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, sdk::ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.error().message, "snapshot sha256:abc exists");

  // An exception inside the plugin comes back as an error, not a crash.
  auto boom = (*driver)->prepare(ctx, "throw", "", {});
  ASSERT_FALSE(boom);
  EXPECT_EQ(boom.error().code, sdk::ErrorCode::kInternal);
  EXPECT_EQ(boom.error().message, "driver threw: fake driver exploded");

  auto usage = (*driver)->usage(ctx, "sha256:abc");
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->size, 42);
  EXPECT_EQ(usage->inodes, 7);
  auto walked = (*driver)->walk(ctx, sdk::WalkFilter{"", sdk::SnapshotKind::kCommitted});
  ASSERT_TRUE(walked);
  ASSERT_EQ(walked->size(), 1u);
  EXPECT_EQ((*walked)[0].name, "sha256:abc");
  auto info2 = (*driver)->info();
  EXPECT_EQ(info2.name, "fake");
  ASSERT_EQ(info2.status.size(), 1u);
  EXPECT_EQ(info2.status[0].second, "/nonexistent/fake-root");
}

TEST(PluginLoader, DriverCreateCanSayUnsupported) {
  auto file = host::load_plugin(fixture("ok_fake_storage"));
  ASSERT_EQ(file.outcome, host::LoadOutcome::kLoaded);
  NullLogger log;
  host::HostInit init;
  init.driver_id = "storage.fake";
  init.config_json = R"({"unsupported": true})";
  init.log = &log;
  auto driver = host::create_storage(file.drivers[0], init);
  ASSERT_FALSE(driver);
  EXPECT_EQ(driver.error().code, sdk::ErrorCode::kUnsupported);
  EXPECT_EQ(driver.error().message, "fake storage is not supported here: asked by config");
}

TEST(PluginLoader, WrongKindIsRefused) {
  auto file = host::load_plugin(fixture("ok_fake_storage"));
  ASSERT_EQ(file.outcome, host::LoadOutcome::kLoaded);
  NullLogger log;
  host::HostInit init;
  init.log = &log;
  auto net = host::create_network(file.drivers[0], init);
  ASSERT_FALSE(net);
  EXPECT_EQ(net.error().message, "storage.fake is a storage driver, not a network driver");
}

TEST(PluginLoader, OtherAbiMajorIsRefusedBeforeRunningCode) {
  auto file = host::load_plugin(fixture("abi_major_mismatch"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kAbiMismatch);
  EXPECT_EQ(file.abi_major, static_cast<uint32_t>(BERTH_SDK_ABI_MAJOR + 1));
  std::string major = std::to_string(BERTH_SDK_ABI_MAJOR + 1);
  EXPECT_EQ(file.reason, "built for SDK ABI major " + major + ", newer than this berthd's " +
                             std::to_string(BERTH_SDK_ABI_MAJOR) + " (exports berth_plugin_abi_v" +
                             major + ")");
  // Its descriptor was never read: no code of it ran.
  EXPECT_TRUE(file.name.empty());
}

TEST(PluginLoader, OlderMajorIsRefusedWithoutRunningIt) {
  // A plugin built against ABI 1.0 (before the typed isolation contract of 2.0): refused by its
  // symbol table, before dlopen, so none of its code runs and nothing crashes.
  auto file = host::load_plugin(fixture("abi_major_old"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kAbiMismatch);
  EXPECT_EQ(file.abi_major, static_cast<uint32_t>(BERTH_SDK_ABI_MAJOR - 1));
  std::string major = std::to_string(BERTH_SDK_ABI_MAJOR - 1);
  EXPECT_EQ(file.reason, "built for SDK ABI major " + major + ", older than this berthd's " +
                             std::to_string(BERTH_SDK_ABI_MAJOR) + " (exports berth_plugin_abi_v" +
                             major + ")");
  EXPECT_TRUE(file.name.empty());
}

TEST(PluginLoader, NewerMinorIsRefusedAtHandshake) {
  auto file = host::load_plugin(fixture("abi_minor_newer"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kAbiMismatch);
  EXPECT_EQ(file.name, "raw-abi_minor_newer");
  EXPECT_EQ(file.reason, "built for a newer SDK ABI minor (" + std::to_string(BERTH_SDK_ABI_MAJOR) +
                             "." + std::to_string(BERTH_SDK_ABI_MINOR + 1) + ")");
}

TEST(PluginLoader, MissingEntryIsNotAPlugin) {
  auto file = host::load_plugin(fixture("missing_entry"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kNotAPlugin);
  EXPECT_EQ(file.reason, "not a berth plugin: no " BERTH_SDK_ENTRY_NAME " entry symbol");
}

TEST(PluginLoader, NonElfFileIsNotAPlugin) {
  auto file = host::load_plugin(fixture("not_elf"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kNotAPlugin);
  EXPECT_NE(file.reason.find("not a loadable shared object"), std::string::npos) << file.reason;
}

TEST(PluginLoader, TruncatedDescriptorIsRefused) {
  auto file = host::load_plugin(fixture("truncated_descriptor"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kAbiMismatch);
  EXPECT_EQ(file.reason, "plugin descriptor is missing or truncated");
}

TEST(PluginLoader, InitThatThrowsFailsThePluginOnly) {
  auto file = host::load_plugin(fixture("init_throws"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kInitFailed);
  EXPECT_EQ(file.reason, "init failed: init threw: boom from init");
  EXPECT_TRUE(file.drivers.empty());
}

TEST(PluginLoader, InitErrorCarriesThePluginsReason) {
  auto file = host::load_plugin(fixture("init_fails"));
  EXPECT_EQ(file.outcome, host::LoadOutcome::kInitFailed);
  EXPECT_EQ(file.reason, "init failed: license server unreachable");
}

TEST(PluginLoader, MissingFileIsReported) {
  auto file = host::load_plugin("/nonexistent/berth-x.so");
  EXPECT_EQ(file.outcome, host::LoadOutcome::kNotAPlugin);
}

}  // namespace
