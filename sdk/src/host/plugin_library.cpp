// Loading a plugin file: symbol check without running code, dlopen, handshake, init.
#include "berth/sdk/host/plugin_library.hpp"

#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <mutex>
#include <string>

namespace berth::sdk::host {
namespace {

// Libraries stay loaded for the life of the process: code of an unloaded plugin could still be
// referenced by a driver table, a thread or an error string. Deliberately never destroyed.
std::vector<boost::dll::shared_library>& loaded_libraries() {
  static auto* libraries = new std::vector<boost::dll::shared_library>();
  return *libraries;
}
std::mutex& loaded_libraries_mutex() {
  static auto* m = new std::mutex();
  return *m;
}

std::string str_or(const char* s, const char* fallback) {
  return s == nullptr ? std::string(fallback) : std::string(s);
}

// Registrar the plugin's init() talks to: copies every definition it is given.
struct Collector {
  std::vector<DriverDef>* drivers;
  std::string problem;  // first malformed registration
};

berth_status collect_driver(void* ctx, const berth_driver_def* def) {
  auto* c = static_cast<Collector*>(ctx);
  constexpr size_t kNeeded = offsetof(berth_driver_def, destroy) + sizeof(def->destroy);
  if (def == nullptr || def->struct_size < kNeeded) {
    c->problem = "registered a driver with a truncated definition";
    return BERTH_ERR_INVALID_ARGUMENT;
  }
  std::string name(def->name.data == nullptr ? "" : def->name.data, def->name.size);
  if (kind_name(def->kind) == "unknown") {
    c->problem = "registered driver \"" + name + "\" of unknown kind " + std::to_string(def->kind);
    return BERTH_ERR_INVALID_ARGUMENT;
  }
  if (name.empty() || name.find_first_of(". /") != std::string::npos) {
    c->problem = "registered a driver with an invalid name \"" + name + "\"";
    return BERTH_ERR_INVALID_ARGUMENT;
  }
  if (def->vtable == nullptr || def->create == nullptr || def->destroy == nullptr) {
    c->problem = "driver \"" + name + "\" lacks its table, create or destroy function";
    return BERTH_ERR_INVALID_ARGUMENT;
  }
  for (const auto& d : *c->drivers) {
    if (d.kind == def->kind && d.name == name) {
      c->problem = "registered " + d.id() + " twice";
      return BERTH_ERR_ALREADY_EXISTS;
    }
  }
  c->drivers->push_back(DriverDef{def->kind, std::move(name), def->vtable, def->create,
                                  def->destroy});
  return BERTH_OK;
}

// Parses the major out of "berth_plugin_abi_v<N>"; -1 when the name has another shape.
long alias_major(const std::string& alias) {
  const std::string prefix = BERTH_SDK_ENTRY_PREFIX;
  if (alias.rfind(prefix, 0) != 0 || alias.size() == prefix.size()) return -1;
  long major = 0;
  for (size_t i = prefix.size(); i < alias.size(); ++i) {
    if (alias[i] < '0' || alias[i] > '9' || major > 100000) return -1;
    major = major * 10 + (alias[i] - '0');
  }
  return major;
}

}  // namespace

PluginFile load_plugin(const std::filesystem::path& path) {
  PluginFile file;
  file.path = path;

  // (1) Exported aliases, read from the ELF without loading it.
  std::vector<std::string> aliases;
  try {
    boost::dll::library_info info(path, /*throw_if_not_native=*/true);
    aliases = info.symbols("boostdll");
  } catch (const std::exception& e) {
    file.outcome = LoadOutcome::kNotAPlugin;
    file.reason = std::string("not a loadable shared object: ") + e.what();
    return file;
  }
  bool has_ours = false;
  long other_major = -1;
  for (const auto& alias : aliases) {
    long major = alias_major(alias);
    if (major == BERTH_SDK_ABI_MAJOR) has_ours = true;
    else if (major >= 0) other_major = major;
  }
  if (!has_ours) {
    if (other_major >= 0) {
      file.outcome = LoadOutcome::kAbiMismatch;
      file.abi_major = static_cast<uint32_t>(other_major);
      // An older major is the common case after an upgrade of berthd: say which way it is off.
      file.reason = "built for SDK ABI major " + std::to_string(other_major) + ", " +
                    (other_major < BERTH_SDK_ABI_MAJOR ? "older" : "newer") +
                    " than this berthd's " + std::to_string(BERTH_SDK_ABI_MAJOR) + " (exports " +
                    BERTH_SDK_ENTRY_PREFIX + std::to_string(other_major) + ")";
    } else {
      file.outcome = LoadOutcome::kNotAPlugin;
      file.reason = "not a berth plugin: no " BERTH_SDK_ENTRY_NAME " entry symbol";
    }
    return file;
  }

  // (2) Load. RTLD_LOCAL keeps the plugin's symbols (its own Boost, fmt, ...) out of ours.
  boost::dll::shared_library library;
  try {
    library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    file.outcome = LoadOutcome::kLoadError;
    file.reason = std::string("cannot load: ") + e.what();
    return file;
  }

  // (3) Handshake.
  const berth_plugin_info* info = nullptr;
  try {
    auto& entry = library.get_alias<const berth_plugin_info*()>(BERTH_SDK_ENTRY_NAME);
    info = entry();
  } catch (const std::exception& e) {
    file.outcome = LoadOutcome::kAbiMismatch;
    file.reason = std::string("cannot read the plugin descriptor: ") + e.what();
    return file;
  }
  constexpr size_t kMinInfo = offsetof(berth_plugin_info, init) + sizeof(info->init);
  if (info == nullptr || info->struct_size < offsetof(berth_plugin_info, abi_minor) + 4) {
    file.outcome = LoadOutcome::kAbiMismatch;
    file.reason = "plugin descriptor is missing or truncated";
    return file;
  }
  file.abi_major = info->abi_major;
  file.abi_minor = info->abi_minor;
  if (info->struct_size >= kMinInfo) {
    file.name = str_or(info->name, "");
    file.version = str_or(info->version, "");
    file.vendor = str_or(info->vendor, "");
    file.sdk_version = str_or(info->sdk_version, "");
    file.toolchain = str_or(info->toolchain, "");
  }
  if (info->abi_major != BERTH_SDK_ABI_MAJOR) {
    file.outcome = LoadOutcome::kAbiMismatch;
    file.reason = "descriptor says SDK ABI major " + std::to_string(info->abi_major);
    return file;
  }
  if (info->abi_minor > BERTH_SDK_ABI_MINOR) {
    file.outcome = LoadOutcome::kAbiMismatch;
    file.reason = "built for a newer SDK ABI minor (" + std::to_string(info->abi_major) + "." +
                  std::to_string(info->abi_minor) + ")";
    return file;
  }
  if (info->struct_size < kMinInfo || info->init == nullptr) {
    file.outcome = LoadOutcome::kAbiMismatch;
    file.reason = "plugin descriptor has no init function";
    return file;
  }

  // The library is kept from here on, whatever init does: its code already ran.
  {
    std::lock_guard lock(loaded_libraries_mutex());
    loaded_libraries().push_back(library);
  }

  // (4) Init.
  Collector collector{&file.drivers, {}};
  berth_registrar registrar{sizeof(berth_registrar), &collector, &collect_driver};
  std::string error;
  berth_sink sink{&error, [](void* ctx, const char* data, size_t size) {
                    static_cast<std::string*>(ctx)->append(data, size);
                  }};
  berth_status s = info->init(&registrar, &sink);
  if (s != BERTH_OK || !collector.problem.empty()) {
    file.outcome = LoadOutcome::kInitFailed;
    file.drivers.clear();
    if (!collector.problem.empty()) file.reason = "init: " + collector.problem;
    else file.reason = "init failed: " + (error.empty() ? std::string("no reason given") : error);
    return file;
  }
  file.outcome = LoadOutcome::kLoaded;
  return file;
}

}  // namespace berth::sdk::host
