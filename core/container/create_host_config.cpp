// HostConfig at create: the defaults dockerd fills in for inspect, and the values it refuses
// that the JSON types alone let through (resources, restart policy, security options, sysctls,
// network and log settings, user, capabilities, storage options).
#include <charconv>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "core/common/json_fields.hpp"
#include "core/config/daemon_config.hpp"
#include "core/container/create_config.hpp"
#include "core/container/create_config_detail.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace create_detail {
namespace {

// Sysctls a container may set: those of its own namespaces (dockerd's and runc's list).
bool namespaced_sysctl(const std::string& key, const std::string& netmode) {
  static const std::set<std::string> kIpc = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                             "kernel.sem", "kernel.shmall", "kernel.shmmax",
                                             "kernel.shmmni", "kernel.shm_rmid_forced"};
  if (kIpc.contains(key) || key.rfind("fs.mqueue.", 0) == 0) return true;
  return key.rfind("net.", 0) == 0 && netmode != "host";
}

}  // namespace

using json_fields::str;
using json_fields::num;
using json_fields::flag;

// HostConfig defaults as dockerd fills them for inspect.
void fill_host_defaults(json::object& hc, const CreateDefaults& d) {
  auto def = [&](std::string_view k, json::value v) {
    if (is_null_or_missing(hc, k)) hc[k] = std::move(v);
  };
  def("Binds", nullptr);
  def("ContainerIDFile", "");
  if (!hc.contains("LogConfig") || !hc["LogConfig"].is_object() ||
      str(hc["LogConfig"].get_object(), "Type").empty()) {
    json::object cfg;
    if (const auto* existing = hc.if_contains("LogConfig"); existing != nullptr && existing->is_object()) {
      if (const auto* c = existing->get_object().if_contains("Config"); c != nullptr && c->is_object()) {
        cfg = c->get_object();
      }
    }
    hc["LogConfig"] = json::object{{"Type", "json-file"}, {"Config", cfg}};
  }
  def("NetworkMode", "default");
  def("PortBindings", json::object());
  def("RestartPolicy", json::object{{"Name", "no"}, {"MaximumRetryCount", 0}});
  if (str(hc["RestartPolicy"].as_object(), "Name").empty()) hc["RestartPolicy"].as_object()["Name"] = "no";
  def("AutoRemove", false);
  def("VolumeDriver", "");
  def("VolumesFrom", nullptr);
  def("CapAdd", nullptr);
  def("CapDrop", nullptr);
  if (str(hc, "CgroupnsMode").empty()) hc["CgroupnsMode"] = d.cgroup_v2 ? "private" : "host";
  def("Dns", json::array());
  def("DnsOptions", json::array());
  def("DnsSearch", json::array());
  def("ExtraHosts", nullptr);
  def("GroupAdd", nullptr);
  if (str(hc, "IpcMode").empty()) hc["IpcMode"] = "private";
  def("Cgroup", "");
  def("Links", nullptr);
  def("OomScoreAdj", 0);
  def("PidMode", "");
  def("Privileged", false);
  def("PublishAllPorts", false);
  def("ReadonlyRootfs", false);
  def("SecurityOpt", nullptr);
  def("UTSMode", "");
  def("UsernsMode", "");
  if (num(hc, "ShmSize") <= 0) hc["ShmSize"] = int64_t{67108864};
  // The runtime clients name (every client sends runc, docker's default) is this backend.
  if (str(hc, "Runtime").empty()) hc["Runtime"] = "runc";
  def("ConsoleSize", json::array{0, 0});
  def("Isolation", "");
  for (const char* k : {"CpuShares", "Memory", "NanoCpus", "BlkioWeight", "CpuPeriod", "CpuQuota",
                        "CpuRealtimePeriod", "CpuRealtimeRuntime", "MemoryReservation",
                        "MemorySwap", "CpuCount", "CpuPercent", "IOMaximumIOps",
                        "IOMaximumBandwidth"}) {
    def(k, 0);
  }
  def("CgroupParent", "");
  for (const char* k : {"BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                        "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "Devices", "Ulimits"}) {
    def(k, json::array());
  }
  def("CpusetCpus", "");
  def("CpusetMems", "");
  def("DeviceCgroupRules", nullptr);
  def("DeviceRequests", nullptr);
  def("MemorySwappiness", nullptr);
  def("OomKillDisable", false);
  def("PidsLimit", nullptr);
  def("Init", nullptr);
}

Status check_resources(json::object& hc, const CreateDefaults& d, std::vector<std::string>& warnings) {
  int64_t memory = num(hc, "Memory");
  int64_t swap = num(hc, "MemorySwap");
  if (memory < 0) return invalid("invalid memory limit");
  if (memory > 0 && memory < 6 * 1024 * 1024) return invalid("Minimum memory limit allowed is 6MB");
  if (memory > 0 && swap > 0 && swap < memory) {
    return invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (memory == 0 && swap > 0) {
    return invalid("You should always set the Memory limit when using Memoryswap limit, see usage");
  }
  int64_t nano = num(hc, "NanoCpus");
  if (nano < 0) return invalid("invalid NanoCpus");
  if (nano > static_cast<int64_t>(d.ncpu) * 1000000000) {
    return invalid("Range of CPUs is from 0.01 to " + std::to_string(d.ncpu) + ".00, as there are only " +
                   std::to_string(d.ncpu) + " CPUs available");
  }
  if (nano > 0 && (num(hc, "CpuQuota") > 0 || num(hc, "CpuPeriod") > 0)) {
    return invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  if (num(hc, "CpuShares") < 0) return invalid("invalid CpuShares");
  if (auto cpus = str(hc, "CpusetCpus"); !cpus.empty()) {
    if (cpus.find_first_not_of("0123456789,-") != std::string::npos) {
      return invalid("Invalid value " + cpus + " for cpuset cpus");
    }
    // Every listed cpu must exist.
    size_t pos = 0;
    while (pos < cpus.size()) {
      size_t comma = cpus.find(',', pos);
      if (comma == std::string::npos) comma = cpus.size();
      std::string part = cpus.substr(pos, comma - pos);
      pos = comma + 1;
      if (part.empty()) return invalid("Invalid value " + cpus + " for cpuset cpus");
      auto dash = part.find('-');
      std::string_view last = dash == std::string::npos ? std::string_view(part) : std::string_view(part).substr(dash + 1);
      int hi = 0;
      auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), hi);
      if (last.empty() || ec != std::errc() || end != last.data() + last.size()) {
        return invalid("Invalid value " + cpus + " for cpuset cpus");
      }
      if (hi >= d.ncpu) {
        return invalid("Requested CPUs are not available - requested " + cpus + ", available: 0-" +
                       std::to_string(d.ncpu - 1));
      }
    }
  }
  if (const auto* p = hc.if_contains("PidsLimit"); p != nullptr && p->is_number() &&
                                                  p->to_number<int64_t>() <= 0) {
    hc["PidsLimit"] = nullptr;  // 0 and -1 both mean unlimited
  }
  if (const auto* u = hc.if_contains("Ulimits"); u != nullptr && u->is_array()) {
    static const std::set<std::string> kNames = {"core", "cpu", "data", "fsize", "locks", "memlock",
                                                 "msgqueue", "nice", "nofile", "nproc", "rss",
                                                 "rtprio", "rttime", "sigpending", "stack", "as"};
    for (const auto& e : u->get_array()) {
      if (!e.is_object()) return invalid("invalid ulimit");
      std::string name = str(e.get_object(), "Name");
      if (!kNames.contains(name)) return invalid("invalid ulimit type: " + name);
      int64_t soft = num(e.get_object(), "Soft");
      int64_t hard = num(e.get_object(), "Hard");
      if (soft > hard) {
        return invalid("ulimit soft limit must be less than or equal to hard limit: " +
                       std::to_string(soft) + " > " + std::to_string(hard));
      }
    }
  }
  if (flag(hc, "OomKillDisable") && memory == 0) {
    warnings.push_back("OOM killer is disabled for the container, but no memory limit is set, this "
                       "can result in the system running out of resources.");
  }
  return {};
}

Status check_restart_policy(const json::object& hc) {
  const auto& policy = hc.at("RestartPolicy").as_object();
  std::string name = str(policy, "Name");
  int64_t max = num(policy, "MaximumRetryCount");
  if (name != "no" && name != "always" && name != "unless-stopped" && name != "on-failure") {
    return invalid("invalid restart policy '" + name + "'");
  }
  if (max < 0) return invalid("invalid restart policy: maximum retry count cannot be negative");
  if (max > 0 && name != "on-failure") {
    return invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'");
  }
  if (flag(hc, "AutoRemove") && name != "no") {
    return invalid("conflicting options: cannot specify both --restart and --rm");
  }
  return {};
}

Status check_security_opts(const json::object& hc) {
  auto opts = strings(hc, "SecurityOpt");
  if (!opts) return opts.error();
  if (!*opts) return {};
  for (const auto& o : **opts) {
    std::string key = o.substr(0, o.find_first_of("=:"));
    if (key == "seccomp" && o.size() > key.size()) {
      // The docker CLI sends the profile itself; a path or anything else is not a profile.
      std::string profile = o.substr(key.size() + 1);
      if (profile != "unconfined") {
        json::error_code ec;
        auto v = json::parse(profile, ec);
        if (ec || !v.is_object()) {
          return invalid("Decoding seccomp profile failed: " +
                         (ec ? ec.message() : std::string("not a JSON object")) +
                         " (--security-opt seccomp= takes the profile's JSON, or unconfined)");
        }
      }
    }
    if (key == "seccomp" || key == "no-new-privileges" || key == "label" || key == "apparmor" ||
        key == "systempaths" || key == "mask") {
      if (key == "no-new-privileges" && o.size() > key.size()) {
        std::string v = o.substr(key.size() + 1);
        if (v != "true" && v != "false") return invalid("invalid --security-opt: \"" + o + "\"");
      }
      if (key == "systempaths" && o != "systempaths=unconfined") {
        return invalid("invalid --security-opt: \"" + o + "\"");
      }
      continue;
    }
    return invalid("invalid --security-opt: \"" + o + "\"");
  }
  return {};
}

// Values dockerd refuses at create that the JSON types alone let through.
Status check_host_values(const json::object& hc, const CreateDefaults& d) {
  if (num(hc, "ShmSize") < 0) return invalid("SHM size can not be less than 0");
  if (const auto* p = hc.if_contains("PidsLimit"); p != nullptr && p->is_int64() && p->get_int64() < -1) {
    return invalid("invalid PidsLimit " + std::to_string(p->get_int64()) +
                   ": a number of processes, or 0 or -1 for unlimited");
  }
  int64_t quota = num(hc, "CpuQuota");
  if (quota < -1 || (quota > 0 && quota < 1000)) {
    return invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
  int64_t period = num(hc, "CpuPeriod");
  if (period != 0 && (period < 1000 || period > 1000000)) {
    return invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  }
  if (num(hc, "OomScoreAdj") < -1000 || num(hc, "OomScoreAdj") > 1000) {
    return invalid("Invalid value " + std::to_string(num(hc, "OomScoreAdj")) +
                   ", range for oom score adj is [-1000, 1000]");
  }
  std::string netmode = str(hc, "NetworkMode");
  if (const auto* sys = hc.if_contains("Sysctls"); sys != nullptr && sys->is_object()) {
    for (const auto& [k, _] : sys->get_object()) {
      std::string key(k);
      if (!namespaced_sysctl(key, netmode)) {
        return invalid("sysctl '" + key + "' is not allowed" +
                       (key.rfind("net.", 0) == 0 ? " in host network mode" :
                        ": only sysctls of the container's own namespaces (kernel.msg*, kernel.sem, "
                        "kernel.shm*, fs.mqueue.*, net.*) can be set"));
      }
    }
  }
  // Whether the storage driver can cap the size is known only where the driver is: create.
  if (auto size = storage_size_limit(hc); !size) return size.error();
  // Ports cannot be published from a network namespace the container does not own (dockerd's
  // words; the docker CLI checks the same before sending).
  bool publishes = flag(hc, "PublishAllPorts");
  if (const auto* pb = hc.if_contains("PortBindings"); pb != nullptr && pb->is_object() && !pb->get_object().empty()) {
    publishes = true;
  }
  if (publishes && (netmode == "host" || netmode == "none" || netmode.rfind("container:", 0) == 0)) {
    return invalid("conflicting options: port publishing and the container type network mode");
  }
  if (std::string rt = str(hc, "Runtime"); rt != "runc" && rt != "berth") {
    return invalid("unknown or invalid runtime name: " + rt);
  }
  // Networks: the built-in modes, another container's, or a network's name.
  if (netmode.rfind("container:", 0) != 0 && netmode != "default" && netmode != "none" &&
      netmode != "host" && netmode != "bridge") {
    bool valid_name = !netmode.empty() && std::isalnum(static_cast<unsigned char>(netmode[0]));
    for (char c : netmode) {
      valid_name = valid_name && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    }
    // Whether the network exists is the network manager's to say (at reserve).
    if (!valid_name) return invalid("invalid network mode: \"" + netmode + "\"");
  }
  // Logging: one parser with daemon.json's log-opts.
  const auto& log = hc.at("LogConfig").as_object();
  std::string type = str(log, "Type");
  std::map<std::string, std::string> options;
  if (const auto* c = log.if_contains("Config"); c != nullptr && c->is_object()) {
    for (const auto& [k, v] : c->get_object()) options[std::string(k)] = v.is_string() ? std::string(v.get_string()) : "";
  }
  if (type == "json-file") {
    auto parsed = config::parse_log_options(options, config::LogOpts{d.log_max_size, d.log_max_file});
    if (!parsed) return std::move(parsed).error();
  } else if (type == "none") {
    if (!options.empty()) return invalid("unknown log opt '" + options.begin()->first + "' for none log driver");
  } else {
    return invalid("logger: no log driver named '" + type + "' is registered");
  }
  return {};
}

// "user", "uid", "user:group", "uid:gid": anything else is refused at create, not at start.
Status check_user(const json::object& config) {
  std::string user = str(config, "User");
  if (user.empty()) return {};
  size_t colon = user.find(':');
  std::string name = user.substr(0, colon);
  std::string group = colon == std::string::npos ? "x" : user.substr(colon + 1);
  bool ok = !name.empty() && !group.empty() && group.find(':') == std::string::npos &&
            user.find_first_of(std::string("/\n\0", 3)) == std::string::npos;
  if (!ok) return invalid("invalid user \"" + user + "\": use name, uid, name:group or uid:gid");
  return {};
}

Status check_capabilities(json::object& hc) {
  for (const char* key : {"CapAdd", "CapDrop"}) {
    auto list = strings(hc, key);
    if (!list) return list.error();
    if (!*list) continue;
    json::array normalized;
    for (const auto& c : **list) {
      auto n = normalize_capability(c);
      if (!n) return n.error();
      normalized.emplace_back(*n);
    }
    hc[key] = std::move(normalized);
  }
  return {};
}

}  // namespace create_detail

using create_detail::invalid;

Result<std::optional<int64_t>> storage_size_limit(const json::object& hc) {
  const auto* so = hc.if_contains("StorageOpt");
  if (so == nullptr || !so->is_object()) return std::optional<int64_t>{};
  std::optional<int64_t> size;
  for (const auto& [k, v] : so->get_object()) {
    std::string value = v.is_string() ? std::string(v.get_string()) : "";
    if (k != "size") return invalid("unknown storage option: " + std::string(k));
    auto bytes = config::parse_byte_size(value);
    if (!bytes || *bytes <= 0) return invalid("invalid storage option size=" + value + ": a size such as 10g");
    size = *bytes;
  }
  return size;
}

}  // namespace berth::core::container
