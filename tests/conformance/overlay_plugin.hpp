// Shared by the overlay tests: loads berth-storage-overlay.so once, as berthd would, and creates
// drivers from it through the C ABI, with a logger that prints warnings and errors.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "berth/sdk/host/plugin_library.hpp"

namespace berth::tests {

// Prints warnings and errors to stderr; BERTH_TEST_LOG=debug shows everything.
class TestLogger final : public sdk::Logger {
 public:
  TestLogger() {
    const char* env = std::getenv("BERTH_TEST_LOG");
    if (env != nullptr && std::string(env) == "debug") threshold_ = sdk::LogLevel::kTrace;
  }
  [[nodiscard]] bool enabled(sdk::LogLevel level) const noexcept override {
    return level >= threshold_;
  }
  void write(sdk::LogLevel level, std::string_view message, const sdk::Field* fields,
             size_t count) noexcept override {
    std::string line = "[storage.overlay " + std::to_string(static_cast<int>(level)) + "] ";
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
  sdk::LogLevel threshold_ = sdk::LogLevel::kWarn;
};

inline TestLogger& test_logger() {
  static TestLogger logger;
  return logger;
}

// The "storage.overlay" definition from the plugin, or the reason it could not be loaded.
inline sdk::Result<sdk::host::DriverDef> overlay_driver_def() {
  static const sdk::host::PluginFile file = sdk::host::load_plugin(BERTH_OVERLAY_PLUGIN_PATH);
  if (file.outcome != sdk::host::LoadOutcome::kLoaded) {
    return sdk::make_error(sdk::ErrorCode::kInternal,
                           "load " + file.path.string() + ": " + file.reason);
  }
  for (const auto& def : file.drivers) {
    if (def.id() == "storage.overlay") return def;
  }
  return sdk::make_error(sdk::ErrorCode::kInternal,
                         file.path.string() + " registers no storage.overlay driver");
}

inline sdk::Result<std::unique_ptr<sdk::StorageDriver>> create_overlay(
    const std::string& root_dir, const std::string& state_dir,
    const std::string& config_json = "{}") {
  auto def = overlay_driver_def();
  if (!def) return std::move(def).error();
  sdk::host::HostInit init;
  init.driver_id = "storage.overlay";
  init.config_json = config_json;
  init.root_dir = root_dir;
  init.state_dir = state_dir;
  init.core_version = "test";
  init.log = &test_logger();
  return sdk::host::create_storage(*def, init);
}

}  // namespace berth::tests
