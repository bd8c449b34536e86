#include "core/plugin/plugin_manager.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <variant>

#include "berth/sdk/version.h"
#include "core/common/logging.hpp"
#include "core/version.hpp"

namespace berth::core::plugin {
namespace {

namespace host = sdk::host;

std::string accepted_abi() {
  return std::to_string(BERTH_SDK_ABI_MAJOR) + "." + std::to_string(BERTH_SDK_ABI_MINOR);
}

spdlog::level::level_enum spd_level(sdk::LogLevel level) {
  switch (level) {
    case sdk::LogLevel::kTrace: return spdlog::level::trace;
    case sdk::LogLevel::kDebug: return spdlog::level::debug;
    case sdk::LogLevel::kInfo: return spdlog::level::info;
    case sdk::LogLevel::kWarn: return spdlog::level::warn;
    case sdk::LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// "plugin.<id>" logger handed to a driver.
class DriverLogger final : public sdk::Logger {
 public:
  explicit DriverLogger(const std::string& id) : log_(logging::get("plugin." + id)) {}
  bool enabled(sdk::LogLevel level) const noexcept override {
    return log_->should_log(spd_level(level));
  }
  void write(sdk::LogLevel level, std::string_view message, const sdk::Field* fields,
             size_t count) noexcept override {
    try {
      if (count == 0) {
        log_->log(spd_level(level), "{}", message);
        return;
      }
      std::string line(message);
      for (size_t i = 0; i < count; ++i) {
        line += ' ';
        line += fields[i].key;
        line += '=';
        line += fields[i].value;
      }
      log_->log(spd_level(level), "{}", line);
    } catch (...) {
    }
  }

 private:
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

// The one sink every isolation backend reports exits to. Backends are created before the
// container manager that consumes exits, so this forwards to whatever sink is registered (none
// at startup or shutdown: an exit then is found again by the manager's restore through list()).
class PluginManager::TaskExitRelay final : public sdk::TaskExitSink {
 public:
  void set(sdk::TaskExitSink* sink) {
    std::lock_guard lock(mutex_);
    sink_ = sink;
  }
  void task_exited(const sdk::TaskExit& exit) noexcept override {
    std::lock_guard lock(mutex_);  // held while delivering, so set(nullptr) waits for it
    if (sink_ != nullptr) sink_->task_exited(exit);
  }

 private:
  std::mutex mutex_;
  sdk::TaskExitSink* sink_ = nullptr;
};

namespace {

std::string file_stem(const std::filesystem::path& path) {
  std::string stem = path.filename().string();
  if (stem.size() > 3 && stem.ends_with(".so")) stem.resize(stem.size() - 3);
  return stem;
}

// Root-owned and not writable by group or others: anyone who can replace a plugin runs code as
// root inside the daemon.
std::optional<std::pair<std::string, std::string>> trust_problem(const std::filesystem::path& file) {
  auto dir = file.parent_path();
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    return std::make_pair("cannot stat: " + std::string(std::strerror(errno)), std::string());
  }
  if (!S_ISREG(st.st_mode)) return std::make_pair(std::string("not a regular file"), std::string());
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  if (st.st_uid != 0) {
    return std::make_pair("insecure permissions: owned by uid " + std::to_string(st.st_uid) +
                              ", not root",
                          "chown root:root " + file.string());
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return std::make_pair("insecure permissions: writable by group or others (mode " +
                              std::string(mode) + ")",
                          "chmod go-w " + file.string());
  }
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) == 0) {
    if (dst.st_uid != 0 || (dst.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      return std::make_pair("insecure permissions: its directory " + dir.string() +
                                " is not root-owned or is writable by group or others",
                            "chown root:root " + dir.string() + " && chmod go-w " + dir.string());
    }
  }
  return std::nullopt;
}

bool matches(const std::vector<std::string>& list, const PluginRecord& r) {
  for (const auto& entry : list) {
    if (entry == r.id || (!r.plugin.empty() && entry == r.plugin) ||
        entry == file_stem(r.file) || (entry.rfind("berth-", 0) != 0 && "berth-" + entry == file_stem(r.file))) {
      return true;
    }
  }
  return false;
}

}  // namespace

struct PluginManager::Driver {
  std::string id;
  DriverLogger logger;
  std::variant<std::monostate, std::unique_ptr<sdk::StorageDriver>,
               std::unique_ptr<sdk::NetworkDriver>, std::unique_ptr<sdk::RegistryTransport>,
               std::unique_ptr<sdk::IsolationBackend>>
      instance;
  explicit Driver(const std::string& driver_id) : id(driver_id), logger(driver_id) {}
};

std::string default_plugin_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/local/lib/berth/plugins";
  return (exe.parent_path().parent_path() / "lib" / "berth" / "plugins").lexically_normal().string();
}

Result<std::unique_ptr<PluginManager>> PluginManager::start(
    const config::DaemonConfig& config, const std::vector<std::string>& plugin_dirs,
    sdk::CredentialProvider* registry_credentials) {
  auto log = logging::get("plugin");
  std::unique_ptr<PluginManager> pm(new PluginManager());
  pm->task_exits_ = std::make_unique<TaskExitRelay>();

  // ---- discover ---------------------------------------------------------------------------
  std::vector<std::filesystem::path> files;
  std::set<std::string> seen_dirs;
  for (const auto& dir : plugin_dirs) {
    if (!seen_dirs.insert(dir).second) continue;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      log->debug("plugin directory {} does not exist", dir);
      continue;
    }
    std::vector<std::filesystem::path> here;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      auto name = entry.path().filename().string();
      if (name.rfind("berth-", 0) == 0 && name.ends_with(".so")) here.push_back(entry.path());
    }
    std::sort(here.begin(), here.end());
    files.insert(files.end(), here.begin(), here.end());
  }

  // ---- load -------------------------------------------------------------------------------
  std::vector<host::DriverDef> defs;
  std::vector<std::string> def_files;
  std::map<std::string, std::string> id_to_file;
  for (const auto& path : files) {
    PluginRecord file_record;
    file_record.id = path.filename().string();
    file_record.file = path.string();
    if (matches(config.disabled_plugins, file_record)) {
      file_record.state = "disabled";
      file_record.reason = "listed in disabled-plugins";
      pm->records_.push_back(file_record);
      continue;
    }
    if (auto problem = trust_problem(path)) {
      file_record.state = "rejected";
      file_record.reason = problem->first;
      file_record.fix = problem->second;
      log->error("plugin rejected: file={} reason=\"{}\" fix=\"{}\"", path.string(),
                 problem->first, problem->second);
      pm->records_.push_back(file_record);
      continue;
    }
    host::PluginFile loaded = host::load_plugin(path);
    file_record.plugin = loaded.name;
    file_record.version = loaded.version;
    file_record.vendor = loaded.vendor;
    file_record.sdk_version = loaded.sdk_version;
    file_record.toolchain = loaded.toolchain;
    if (loaded.abi_major != 0 || loaded.abi_minor != 0) {
      file_record.abi = std::to_string(loaded.abi_major) + "." + std::to_string(loaded.abi_minor);
    }
    if (loaded.outcome != host::LoadOutcome::kLoaded) {
      switch (loaded.outcome) {
        case host::LoadOutcome::kNotAPlugin:
          file_record.state = "rejected";
          file_record.fix = "remove " + path.filename().string() + " from " +
                            path.parent_path().string() + ": only berth plugins belong there";
          break;
        case host::LoadOutcome::kAbiMismatch:
          file_record.state = "rejected";
          file_record.fix = "rebuild the plugin against Berth SDK " BERTH_SDK_VERSION " (ABI " +
                            accepted_abi() + "), or add \"" +
                            (loaded.name.empty() ? file_stem(path) : loaded.name) +
                            "\" to \"disabled-plugins\" in " +
                            (config.source.empty() ? std::string(config::kDefaultConfigPath)
                                                   : config.source);
          break;
        case host::LoadOutcome::kLoadError:
          file_record.state = "failed";
          file_record.fix = "check the plugin's dependencies: ldd " + path.string();
          break;
        default:
          file_record.state = "failed";
          file_record.fix = "the reason comes from the plugin itself; see its documentation";
          break;
      }
      file_record.reason = loaded.reason;
      if (!loaded.name.empty()) file_record.id = path.filename().string();
      log->error(
          "plugin {}: file={} plugin=\"{} {}\" vendor=\"{}\" abi={} accepted-abi={} (berthd {}) "
          "reason=\"{}\" fix=\"{}\"",
          file_record.state == "rejected" ? "rejected" : "failed", path.string(),
          loaded.name.empty() ? "?" : loaded.name, loaded.version, loaded.vendor,
          file_record.abi.empty() ? "?" : file_record.abi, accepted_abi(), kBerthVersion,
          loaded.reason, file_record.fix);
      pm->records_.push_back(file_record);
      continue;
    }
    if (loaded.drivers.empty()) {
      file_record.state = "failed";
      file_record.reason = "the plugin registered no driver";
      pm->records_.push_back(file_record);
      continue;
    }
    for (const auto& def : loaded.drivers) {
      auto id = def.id();
      if (auto it = id_to_file.find(id); it != id_to_file.end()) {
        return make_error(ErrorCode::kAlreadyExists,
                          "driver " + id + " is provided by both " + it->second + " and " +
                              path.string() + ": remove one of them or disable it in "
                              "\"disabled-plugins\"");
      }
      id_to_file[id] = path.string();
      PluginRecord r = file_record;
      r.id = id;
      r.kind = std::string(host::kind_name(def.kind));
      r.name = def.name;
      pm->records_.push_back(r);
      defs.push_back(def);
      def_files.push_back(path.string());
    }
  }

  // ---- create drivers ---------------------------------------------------------------------
  for (size_t i = 0; i < defs.size(); ++i) {
    const auto& def = defs[i];
    std::string id = def.id();
    auto rec = std::find_if(pm->records_.begin(), pm->records_.end(),
                            [&](const PluginRecord& r) { return r.id == id; });
    if (matches(config.disabled_plugins, *rec)) {
      rec->state = "disabled";
      rec->reason = "listed in disabled-plugins";
      continue;
    }
    auto driver = std::make_unique<Driver>(id);
    host::HostInit init;
    init.driver_id = id;
    auto section = config.plugins.find(id);
    init.config_json = section == config.plugins.end() ? "{}" : section->second;
    init.root_dir = config.data_root + "/plugins/" + id;
    init.state_dir = config.exec_root + "/plugins/" + id;
    init.core_version = std::string(kBerthVersion);
    init.log = &driver->logger;
    if (def.kind == BERTH_KIND_ISOLATION) init.task_exits = pm->task_exits_.get();
    if (def.kind == BERTH_KIND_REGISTRY) init.credentials = registry_credentials;

    sdk::Error error;
    bool ok = false;
    sdk::DriverInfo info;
    // Whatever the kind, a created driver is kept with its info, a failure keeps its error.
    auto adopt = [&](auto created) {
      if ((ok = created.has_value())) {
        info = (*created)->info();
        driver->instance = std::move(*created);
      } else {
        error = created.error();
      }
    };
    switch (def.kind) {
      case BERTH_KIND_STORAGE:
        adopt(host::create_storage(def, init));
        break;
      case BERTH_KIND_NETWORK:
        adopt(host::create_network(def, init));
        break;
      case BERTH_KIND_REGISTRY:
        adopt(host::create_registry(def, init));
        break;
      case BERTH_KIND_ISOLATION:
        adopt(host::create_isolation(def, init));
        break;
      default:
        error = make_error(ErrorCode::kInvalidArgument, "unknown driver kind");
    }
    if (!ok) {
      rec->state = error.code == ErrorCode::kUnsupported ? "skipped" : "failed";
      rec->reason = error.message;
      if (rec->state == "skipped") {
        log->info("driver {} skipped: {}", id, error.message);
      } else {
        log->error("driver {} failed: file={} reason=\"{}\"", id, def_files[i], error.message);
        rec->fix = "check \"plugins\": {\"" + id + "\": ...} in the configuration and the log above";
      }
      continue;
    }
    rec->state = "ok";
    rec->status = info.status;
    rec->capabilities = info.capabilities;
    switch (def.kind) {
      case BERTH_KIND_STORAGE:
        if (def.name == config.storage_driver) {
          pm->storage_ = std::get<std::unique_ptr<sdk::StorageDriver>>(driver->instance).get();
          pm->storage_name_ = def.name;
        }
        break;
      case BERTH_KIND_ISOLATION:
        if (def.name == config.isolation_backend) {
          pm->isolation_ = std::get<std::unique_ptr<sdk::IsolationBackend>>(driver->instance).get();
        }
        break;
      case BERTH_KIND_NETWORK:
        pm->networks_[def.name] = std::get<std::unique_ptr<sdk::NetworkDriver>>(driver->instance).get();
        break;
      case BERTH_KIND_REGISTRY:
        pm->registries_[def.name] = std::get<std::unique_ptr<sdk::RegistryTransport>>(driver->instance).get();
        break;
      default:
        break;
    }
    log->info("driver {} loaded from {} ({} {}, vendor {})", id, def_files[i], rec->plugin,
              rec->version, rec->vendor);
    pm->drivers_.push_back(std::move(driver));
  }

  // ---- requirements -------------------------------------------------------------------------
  std::string config_file =
      config.source.empty() ? std::string(config::kDefaultConfigPath) : config.source;
  auto describe = [&](const std::string& id) -> std::string {
    for (const auto& r : pm->records_) {
      if (r.id == id) return r.state + (r.reason.empty() ? "" : ": " + r.reason);
    }
    return "not found in any plugin directory (" +
           [&] {
             std::string dirs;
             for (const auto& d : plugin_dirs) dirs += (dirs.empty() ? "" : ", ") + d;
             return dirs;
           }() +
           ")";
  };
  std::vector<std::string> problems;
  if (pm->storage_ == nullptr) {
    std::string id = "storage." + config.storage_driver;
    problems.push_back("storage driver \"" + config.storage_driver + "\" (" + id + ") is " +
                       describe(id) + "\n  fix: set \"storage-driver\" in " + config_file +
                       " to a driver that is ok below, or fix the reason above");
  }
  if (config.isolation_backend != "none" && pm->isolation_ == nullptr) {
    std::string id = "isolation." + config.isolation_backend;
    problems.push_back("isolation backend \"" + config.isolation_backend + "\" (" + id + ") is " +
                       describe(id) + "\n  fix: install its plugin, or set \"isolation-backend\" in " +
                       config_file);
  }
  for (const auto& required : config.required_plugins) {
    bool any = false;
    bool all_ok = true;
    for (const auto& r : pm->records_) {
      if (matches({required}, r)) {
        any = true;
        all_ok = all_ok && r.state == "ok";
      }
    }
    if (!any || !all_ok) {
      problems.push_back("required plugin \"" + required + "\" is " +
                         (any ? std::string("not ok (see its row below)") : describe(required)));
    }
  }
  if (!problems.empty()) {
    std::string message = "cannot start:";
    for (const auto& p : problems) message += "\n- " + p;
    message += "\n\n" + format_table(pm->records_);
    return make_error(ErrorCode::kFailedPrecondition, message);
  }
  return pm;
}

PluginManager::~PluginManager() {
  // Drivers go in reverse creation order (isolation before storage, ...).
  while (!drivers_.empty()) drivers_.pop_back();
}

sdk::NetworkDriver* PluginManager::network(std::string_view name) {
  auto it = networks_.find(name);
  return it == networks_.end() ? nullptr : it->second;
}

sdk::RegistryTransport* PluginManager::registry(std::string_view name) {
  auto it = registries_.find(name);
  return it == registries_.end() ? nullptr : it->second;
}

std::vector<std::string> PluginManager::network_driver_names() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : networks_) names.push_back(name);
  return names;
}

std::vector<PluginRecord> PluginManager::records() const { return records_; }

void PluginManager::set_task_exit_sink(sdk::TaskExitSink* sink) { task_exits_->set(sink); }

std::string PluginManager::format_table(const std::vector<PluginRecord>& records) {
  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"ID", "STATE", "PLUGIN", "FILE", "REASON"});
  for (const auto& r : records) {
    std::string plugin = r.plugin.empty() ? "-" : r.plugin + (r.version.empty() ? "" : " " + r.version);
    std::string reason = r.reason;
    if (!r.fix.empty()) reason += " (fix: " + r.fix + ")";
    rows.push_back({r.id, r.state, plugin, r.file, reason});
  }
  std::array<size_t, 5> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < 4; ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < 5; ++i) {
      out += row[i];
      if (i < 4) out += std::string(width[i] - row[i].size() + 3, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

}  // namespace berth::core::plugin
