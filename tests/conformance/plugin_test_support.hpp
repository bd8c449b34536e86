// Shared by the conformance tests of first-party plugins: a logger that prints a plugin's
// warnings and errors, and a storage driver created from its .so through the C ABI, the plugin
// loaded once per test program as berthd would load it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "berth/sdk/host/plugin_library.hpp"

namespace berth::tests {

// Prints warnings and errors to stderr, tagged with the driver id; BERTH_TEST_LOG=debug shows
// everything.
class PluginTestLogger final : public sdk::Logger {
 public:
  explicit PluginTestLogger(std::string tag) : tag_(std::move(tag)) {
    const char* env = std::getenv("BERTH_TEST_LOG");
    if (env != nullptr && std::string(env) == "debug") threshold_ = sdk::LogLevel::kTrace;
  }
  [[nodiscard]] bool enabled(sdk::LogLevel level) const noexcept override {
    return level >= threshold_;
  }
  void write(sdk::LogLevel level, std::string_view message, const sdk::Field* fields,
             size_t count) noexcept override {
    std::string line = "[" + tag_ + " " + std::to_string(static_cast<int>(level)) + "] ";
    line += message;
    for (size_t i = 0; i < count; ++i) {
      line += " ";
      line += fields[i].key;
      line += "=";
      line += fields[i].value;
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

 private:
  std::string tag_;
  sdk::LogLevel threshold_ = sdk::LogLevel::kWarn;
};

// One logger per tag for the whole program: drivers keep a pointer to it.
inline PluginTestLogger& plugin_test_logger(const std::string& tag) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<PluginTestLogger>> loggers;
  std::lock_guard lock(mu);
  auto& logger = loggers[tag];
  if (!logger) logger = std::make_unique<PluginTestLogger>(tag);
  return *logger;
}

// The definition of `driver_id` in the plugin at `plugin_path`, or why there is none.
inline sdk::Result<sdk::host::DriverDef> plugin_driver_def(const std::string& plugin_path,
                                                           const std::string& driver_id) {
  static std::mutex mu;
  static std::map<std::string, sdk::host::PluginFile> files;
  std::lock_guard lock(mu);
  auto it = files.find(plugin_path);
  if (it == files.end()) it = files.emplace(plugin_path, sdk::host::load_plugin(plugin_path)).first;
  const sdk::host::PluginFile& file = it->second;
  if (file.outcome != sdk::host::LoadOutcome::kLoaded) {
    return sdk::make_error(sdk::ErrorCode::kInternal,
                           "load " + file.path.string() + ": " + file.reason);
  }
  for (const auto& def : file.drivers) {
    if (def.id() == driver_id) return def;
  }
  return sdk::make_error(sdk::ErrorCode::kInternal,
                         file.path.string() + " registers no " + driver_id + " driver");
}

// A storage driver `driver_id` from the plugin at `plugin_path`, created as berthd creates it;
// `init_driver_id` is the id it is configured under (the same unless a test says otherwise).
inline sdk::Result<std::unique_ptr<sdk::StorageDriver>> create_storage_from_plugin(
    const std::string& plugin_path, const std::string& driver_id, const std::string& root_dir,
    const std::string& state_dir, const std::string& config_json,
    const std::string& init_driver_id) {
  auto def = plugin_driver_def(plugin_path, driver_id);
  if (!def) return std::move(def).error();
  sdk::host::HostInit init;
  init.driver_id = init_driver_id;
  init.config_json = config_json;
  init.root_dir = root_dir;
  init.state_dir = state_dir;
  init.core_version = "test";
  init.log = &plugin_test_logger(driver_id);
  return sdk::host::create_storage(*def, init);
}

}  // namespace berth::tests
