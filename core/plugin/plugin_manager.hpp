// Plugin policy: which files are trusted, which drivers are wanted, what stops startup. The
// mechanism (symbol check, dlopen, handshake, C tables) is the SDK's host library.
//
// Startup order: scan plugin-dirs for berth-*.so → trust check (root-owned, not writable by
// group/other, same for the directory) → load (the SDK refuses other ABI majors before any code
// runs, newer minors at the handshake) → duplicate driver ids are fatal → disabled drivers are
// skipped → every other driver is created with its own config section, root and state dirs
// ("unsupported here" = skipped) → the configured storage driver, isolation backend and every
// required plugin must be ok, otherwise startup stops with a table of every plugin and why.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "berth/sdk/host/plugin_library.hpp"
#include "core/common/result.hpp"
#include "core/config/daemon_config.hpp"

namespace berth::core::plugin {

// One row of GET /plugins and `berth plugin ls`: a driver, or a file that yielded none.
struct PluginRecord {
  std::string id;    // "storage.overlay", or the file name when no driver is known
  std::string kind;  // "storage", ... ("" for a file that yielded no driver)
  std::string name;  // "overlay"
  std::string file;
  std::string plugin;  // the plugin's own name, "storage-overlay"
  std::string version, vendor, sdk_version, toolchain;
  std::string abi;    // "1.0"
  std::string state;  // ok | skipped | failed | rejected | disabled
  std::string reason;
  std::string fix;
  std::vector<std::pair<std::string, std::string>> status;  // from the driver's info()
  std::vector<std::string> capabilities;
};

class PluginManager {
 public:
  // Loads and creates everything; an error carries the table of every plugin when a configured
  // or required driver is not ok. Registry transports get `registry_credentials` (the
  // per-request credentials of pulls, pushes and logins).
  static Result<std::unique_ptr<PluginManager>> start(
      const config::DaemonConfig& config, const std::vector<std::string>& plugin_dirs,
      sdk::CredentialProvider* registry_credentials = nullptr);
  ~PluginManager();

  sdk::StorageDriver& storage() { return *storage_; }
  [[nodiscard]] const std::string& storage_name() const { return storage_name_; }
  sdk::IsolationBackend* isolation() { return isolation_; }
  sdk::NetworkDriver* network(std::string_view name);
  sdk::RegistryTransport* registry(std::string_view name);
  [[nodiscard]] std::vector<std::string> network_driver_names() const;

  [[nodiscard]] std::vector<PluginRecord> records() const;
  // Where the isolation backend's task exits go (the container manager); nullptr stops them.
  // Returns once no exit is being delivered to the previous sink.
  void set_task_exit_sink(sdk::TaskExitSink* sink);

  // The table printed when startup stops (also useful in logs).
  static std::string format_table(const std::vector<PluginRecord>& records);

  struct Driver;  // one created driver and its host services
  class TaskExitRelay;

 private:
  PluginManager() = default;

  std::vector<PluginRecord> records_;
  std::vector<std::unique_ptr<Driver>> drivers_;
  sdk::StorageDriver* storage_ = nullptr;
  std::string storage_name_;
  sdk::IsolationBackend* isolation_ = nullptr;
  std::map<std::string, sdk::NetworkDriver*, std::less<>> networks_;
  std::map<std::string, sdk::RegistryTransport*, std::less<>> registries_;
  std::unique_ptr<TaskExitRelay> task_exits_;
};

// <dir of the running berthd>/../lib/berth/plugins: works from a build tree and an install.
std::string default_plugin_dir();

}  // namespace berth::core::plugin
