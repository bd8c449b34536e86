// Host side of the ABI, policy-free: open a plugin file, check it without running its code,
// handshake, init, and turn its C driver tables into the C++ interfaces. berthd adds the policy
// (trust checks, configuration, required/disabled plugins); the conformance suites use this
// directly to test a plugin through the real binary boundary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "berth/sdk/abi.h"
#include "berth/sdk/host.hpp"
#include "berth/sdk/isolation_backend.hpp"
#include "berth/sdk/network_driver.hpp"
#include "berth/sdk/registry_transport.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk::host {

std::string_view kind_name(uint32_t kind);  // "storage", "network", "registry", "isolation"

// A driver a plugin registered; the tables live in the (never unloaded) plugin.
struct DriverDef {
  uint32_t kind = 0;
  std::string name;  // "overlay"
  const void* vtable = nullptr;
  berth_status (*create)(const berth_driver_init*, void**) = nullptr;
  void (*destroy)(void*) = nullptr;

  [[nodiscard]] std::string id() const { return std::string(kind_name(kind)) + "." + name; }
};

// How far loading a file got.
enum class LoadOutcome {
  kLoaded,
  kNotAPlugin,   // no berth entry alias at all (or not a shared object)
  kAbiMismatch,  // other ABI major, newer minor, or a descriptor too small
  kLoadError,    // dlopen failed (missing symbols, wrong architecture, ...)
  kInitFailed,   // init() returned an error or registered a malformed driver
};

struct PluginFile {
  std::filesystem::path path;
  LoadOutcome outcome = LoadOutcome::kNotAPlugin;
  std::string reason;  // one line when outcome != kLoaded
  // From the descriptor, when it could be read:
  std::string name, version, vendor, sdk_version, toolchain;
  uint32_t abi_major = 0, abi_minor = 0;
  std::vector<DriverDef> drivers;
};

// Loads a plugin: (1) lists the file's exported aliases without running any of its code: no
// berth_plugin_abi_v<N> alias means "not a plugin", another N means "built for ABI major N";
// (2) dlopen(RTLD_NOW | RTLD_LOCAL); (3) handshake: same major, plugin minor <= ours, descriptor
// large enough; (4) init, collecting the drivers it registers. Never throws; a loaded library is
// kept for the life of the process (plugins are never unloaded).
PluginFile load_plugin(const std::filesystem::path& path);

// What the host provides to one driver instance.
struct HostInit {
  std::string driver_id;
  std::string config_json = "{}";
  std::string root_dir;
  std::string state_dir;
  std::string core_version;
  Logger* log = nullptr;                      // required
  TaskExitSink* task_exits = nullptr;         // optional; isolation backends report exits here
  CredentialProvider* credentials = nullptr;  // optional
};

// Creates a driver through its C table and returns it as the C++ interface. A kUnsupported
// error means "not applicable on this host" (the message says why).
Result<std::unique_ptr<StorageDriver>> create_storage(const DriverDef& def, const HostInit& init);
Result<std::unique_ptr<NetworkDriver>> create_network(const DriverDef& def, const HostInit& init);
Result<std::unique_ptr<RegistryTransport>> create_registry(const DriverDef& def,
                                                           const HostInit& init);
Result<std::unique_ptr<IsolationBackend>> create_isolation(const DriverDef& def,
                                                           const HostInit& init);

}  // namespace berth::sdk::host
