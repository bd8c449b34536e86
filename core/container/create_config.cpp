#include "core/container/create_config.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "core/common/json_fields.hpp"
#include "core/config/daemon_config.hpp"
#include "core/container/health.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

Error invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

using json_fields::str;
using json_fields::num;
using json_fields::flag;
bool is_null_or_missing(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v == nullptr || v->is_null();
}

// String arrays from the body: null and missing are "unset", anything but strings is refused.
Result<std::optional<std::vector<std::string>>> strings(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  if (v == nullptr || v->is_null()) return std::optional<std::vector<std::string>>();
  if (v->is_string()) {
    // Docker accepts a bare string for Cmd/Entrypoint (strslice).
    return std::optional<std::vector<std::string>>(std::vector<std::string>{std::string(v->get_string())});
  }
  if (!v->is_array()) return invalid(std::string(k) + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return invalid(std::string(k) + " must be an array of strings");
    out.emplace_back(e.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string env_key(std::string_view e) { return std::string(e.substr(0, e.find('='))); }

bool absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

std::string clean_path(const std::string& p) {
  std::string out = std::filesystem::path(p).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// tmpfs options Docker accepts (it passes them to mount(2)).
Status check_tmpfs_options(const std::string& options, const std::string& where) {
  static const std::set<std::string> kFlags = {"ro", "rw", "nosuid", "suid", "nodev", "dev",
                                               "noexec", "exec", "sync", "async", "dirsync",
                                               "noatime", "atime", "nodiratime", "diratime",
                                               "relatime", "norelatime", "strictatime",
                                               "nostrictatime", "tmpcopyup", "notmpcopyup",
                                               "private", "rprivate", "shared", "rshared",
                                               "slave", "rslave"};
  static const std::set<std::string> kKeys = {"size", "mode", "uid", "gid", "nr_inodes",
                                              "nr_blocks", "mpol"};
  size_t start = 0;
  while (start <= options.size()) {
    size_t comma = options.find(',', start);
    if (comma == std::string::npos) comma = options.size();
    std::string opt = options.substr(start, comma - start);
    start = comma + 1;
    if (opt.empty()) continue;
    auto eq = opt.find('=');
    std::string key = opt.substr(0, eq);
    if (eq == std::string::npos ? !kFlags.contains(key) : !kKeys.contains(key)) {
      return invalid("invalid tmpfs option \"" + opt + "\" for " + where);
    }
  }
  return {};
}

Result<MountPoint> parse_mount_object(const json::object& m) {
  MountPoint mp;
  mp.type = str(m, "Type");
  std::string target = str(m, "Target");
  std::string source = str(m, "Source");
  bool ro = flag(m, "ReadOnly");
  std::string where = "type \"" + mp.type + "\"";
  if (target.empty()) return invalid("invalid mount config for " + where + ": field Target must not be empty");
  if (!absolute(target)) {
    return invalid("invalid mount config for " + where + ": invalid mount path: '" + target +
                   "' mount path must be absolute");
  }
  mp.destination = clean_path(target);
  mp.rw = !ro;
  mp.mode = ro ? "ro" : "";
  if (mp.type == "bind") {
    if (source.empty()) return invalid("invalid mount config for " + where + ": field Source must not be empty");
    if (!absolute(source)) {
      return invalid("invalid mount config for " + where + ": invalid mount path: '" + source +
                     "' mount path must be absolute");
    }
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) {
      return invalid("invalid mount config for " + where + ": bind source path does not exist: " + source);
    }
    mp.source = source;
    if (const auto* b = m.if_contains("BindOptions"); b != nullptr && b->is_object()) {
      mp.propagation = str(b->get_object(), "Propagation");
    }
    if (mp.propagation.empty()) mp.propagation = "rprivate";  // what dockerd reports
  } else if (mp.type == "volume") {
    mp.name = source;
    mp.driver = "local";
    mp.anonymous = source.empty();
    if (const auto* v = m.if_contains("VolumeOptions"); v != nullptr && v->is_object()) {
      if (flag(v->get_object(), "NoCopy")) mp.copy_image_data = false;
      std::string driver = "local";
      if (const auto* dc = v->get_object().if_contains("DriverConfig"); dc != nullptr && dc->is_object()) {
        driver = str(dc->get_object(), "Name");
        if (driver.empty()) driver = "local";
      }
      if (driver != "local") return invalid("volume driver \"" + driver + "\" is not supported (only local)");
    }
  } else if (mp.type == "tmpfs") {
    if (!source.empty()) return invalid("invalid mount config for " + where + ": field Source must not be specified");
    std::vector<std::string> opts;
    if (const auto* t = m.if_contains("TmpfsOptions"); t != nullptr && t->is_object()) {
      const auto& to = t->get_object();
      if (auto size = num(to, "SizeBytes"); size > 0) opts.push_back("size=" + std::to_string(size));
      if (auto mode = num(to, "Mode"); mode > 0) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "mode=%o", static_cast<unsigned>(mode));
        opts.push_back(buf);
      }
    }
    for (size_t i = 0; i < opts.size(); ++i) mp.tmpfs_options += (i ? "," : "") + opts[i];
  } else {
    return invalid("mount type \"" + mp.type + "\" is not supported (use bind, volume or tmpfs)");
  }
  return mp;
}

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
      int hi = std::stoi(dash == std::string::npos ? part : part.substr(dash + 1));
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

// Sysctls a container may set: those of its own namespaces (dockerd's and runc's list).
bool namespaced_sysctl(const std::string& key, const std::string& netmode) {
  static const std::set<std::string> kIpc = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                             "kernel.sem", "kernel.shmall", "kernel.shmmax",
                                             "kernel.shmmni", "kernel.shm_rmid_forced"};
  if (kIpc.contains(key) || key.rfind("fs.mqueue.", 0) == 0) return true;
  return key.rfind("net.", 0) == 0 && netmode != "host";
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
    if (!valid_name) return invalid("invalid network mode: \"" + netmode + "\"");
    return make_error(ErrorCode::kNotFound, "network " + netmode + " not found");
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

}  // namespace

const std::vector<std::string>& all_capabilities() {
  static const std::vector<std::string> kAll = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
      "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
      "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
      "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
      "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
      "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
      "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE"};
  return kAll;
}

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> kDefault = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
  return kDefault;
}

Result<std::string> normalize_capability(const std::string& name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "ALL") return upper;
  if (upper.rfind("CAP_", 0) != 0) upper = "CAP_" + upper;
  const auto& all = all_capabilities();
  if (std::find(all.begin(), all.end(), upper) == all.end()) {
    return invalid("unknown capability: \"" + name + "\"");
  }
  return upper;
}

int parse_signal(std::string_view text) {
  if (text.empty()) return 0;
  bool digits = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    int n = std::stoi(std::string(text));
    return n > 0 && n < 65 ? n : 0;
  }
  std::string name(text);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  static const std::map<std::string, int> kSignals = {
      {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
      {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
      {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
      {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
      {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
      {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
      {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
      {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"POLL", SIGPOLL},   {"PWR", SIGPWR},
      {"SYS", SIGSYS}};
  if (auto it = kSignals.find(name); it != kSignals.end()) return it->second;
  if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
    bool min = name[4] == 'I';
    int base = min ? SIGRTMIN : SIGRTMAX;
    if (name.size() == 5) return base;
    try {
      int off = std::stoi(name.substr(5));
      return base + off;
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

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

Status validate_name(const std::string& raw) {
  std::string name = !raw.empty() && raw[0] == '/' ? raw.substr(1) : raw;
  bool ok = name.size() >= 2 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) ok = false;
  }
  if (!ok) {
    return invalid("Invalid container name (" + name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  }
  return {};
}

std::string generate_name(int attempt) {
  // Our own word lists: Docker-like "adjective_surname" names of shipping and harbour figures.
  static const std::vector<std::string> kAdjectives = {
      "able",    "agile",   "amber",   "ardent",  "bold",    "brave",   "breezy",  "bright",
      "calm",    "candid",  "clever",  "cosmic",  "crisp",   "daring",  "deft",    "eager",
      "earnest", "fair",    "fearless","festive", "fond",    "gentle",  "glad",    "golden",
      "hardy",   "hearty",  "honest",  "humble",  "jolly",   "keen",    "kind",    "lively",
      "loyal",   "lucid",   "merry",   "mellow",  "nimble",  "noble",   "patient", "plucky",
      "proud",   "quiet",   "quick",   "radiant", "ready",   "serene",  "sharp",   "silent",
      "smooth",  "sober",   "solid",   "spry",    "steady",  "stoic",   "sunny",   "swift",
      "tidy",    "trusty",  "vivid",   "warm",    "wise",    "witty",   "zealous", "zesty"};
  static const std::vector<std::string> kNames = {
      "anchor",   "ballast",  "beacon",   "bollard",  "bosun",    "bowline",  "buoy",
      "capstan",  "cleat",    "compass",  "coxswain", "davit",    "dinghy",   "dock",
      "ferry",    "galley",   "gangway",  "hawser",   "helm",     "hull",     "jetty",
      "keel",     "lantern",  "lighthouse", "mast",   "mooring",  "navigator","pier",
      "pilot",    "quay",     "rudder",   "sail",     "schooner", "sextant",  "skiff",
      "slipway",  "stern",    "tide",     "tugboat",  "wharf",    "windlass", "yardarm"};
  static thread_local std::mt19937 rng(std::random_device{}());
  std::string name = kAdjectives[rng() % kAdjectives.size()] + "_" + kNames[rng() % kNames.size()];
  if (attempt > 0) name += std::to_string(rng() % 10);
  return name;
}

Result<MountPoint> parse_bind(const std::string& spec) {
  // name:/dst[:opts], /src:/dst[:opts], /dst (anonymous volume)
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t colon = spec.find(':', start);
    if (colon == std::string::npos) colon = spec.size();
    parts.push_back(spec.substr(start, colon - start));
    start = colon + 1;
  }
  auto bad = [&] { return invalid("invalid volume specification: '" + spec + "'"); };
  MountPoint mp;
  if (parts.size() == 1) {
    if (!absolute(parts[0])) {
      return invalid("invalid volume specification: '" + spec + "': invalid mount config for type \"volume\": invalid mount path: '" +
                     parts[0] + "' mount path must be absolute");
    }
    mp.type = "volume";
    mp.anonymous = true;
    mp.driver = "local";
    mp.destination = clean_path(parts[0]);
    return mp;
  }
  if (parts.size() > 3 || parts[0].empty() || parts[1].empty()) return bad();
  if (!absolute(parts[1])) {
    return invalid("invalid volume specification: '" + spec + "': invalid mount config for type \"" +
                   std::string(absolute(parts[0]) ? "bind" : "volume") + "\": invalid mount path: '" +
                   parts[1] + "' mount path must be absolute");
  }
  mp.destination = clean_path(parts[1]);
  if (parts.size() == 3) {
    mp.mode = parts[2];
    size_t pos = 0;
    while (pos <= parts[2].size()) {
      size_t comma = parts[2].find(',', pos);
      if (comma == std::string::npos) comma = parts[2].size();
      std::string opt = parts[2].substr(pos, comma - pos);
      pos = comma + 1;
      if (opt == "ro") mp.rw = false;
      else if (opt == "rw") mp.rw = true;
      else if (opt == "z" || opt == "Z" || opt == "consistent" || opt == "cached" || opt == "delegated") {
      } else if (opt == "nocopy") mp.copy_image_data = false;
      else if (opt == "private" || opt == "rprivate" || opt == "shared" || opt == "rshared" ||
               opt == "slave" || opt == "rslave") {
        mp.propagation = opt;
      } else {
        return bad();
      }
    }
  }
  if (absolute(parts[0])) {
    mp.type = "bind";
    mp.source = clean_path(parts[0]);
    if (mp.propagation.empty()) mp.propagation = "rprivate";
  } else {
    // A named volume: Docker's name rules.
    const std::string& name = parts[0];
    bool ok = name.size() >= 2 && std::isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) ok = false;
    }
    if (!ok) {
      return invalid("create " + name + ": \"" + name +
                     "\" includes invalid characters for a local volume name, only "
                     "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                     "directory, use absolute path");
    }
    mp.type = "volume";
    mp.name = name;
    mp.driver = "local";
  }
  return mp;
}

Result<PreparedCreate> prepare_create(const json::value& body_value, const image::ImageConfig& image,
                                      const std::string& id, const std::string& image_ref,
                                      const CreateDefaults& defaults,
                                      const VolumesFromLookup& volumes_from) {
  if (!body_value.is_object()) return invalid("container config must be a JSON object");
  const auto& body = body_value.get_object();
  PreparedCreate out;
  json::object config;
  for (const auto& [k, v] : body) {
    if (k == "HostConfig" || k == "NetworkingConfig") continue;
    config[k] = v;
  }
  json::object hc;
  if (const auto* h = body.if_contains("HostConfig"); h != nullptr && h->is_object()) hc = h->get_object();
  if (const auto* n = body.if_contains("NetworkingConfig"); n != nullptr && n->is_object()) {
    if (const auto* e = n->get_object().if_contains("EndpointsConfig"); e != nullptr && e->is_object()) {
      out.networking = e->get_object();
    }
  }
  BERTH_TRY_STATUS(check_user(config));
  if (num(hc, "ShmSize") < 0) return invalid("SHM size can not be less than 0");
  fill_host_defaults(hc, defaults);
  BERTH_TRY_STATUS(check_host_values(hc, defaults));
  BERTH_TRY_STATUS(check_resources(hc, defaults, out.warnings));
  BERTH_TRY_STATUS(check_restart_policy(hc));
  BERTH_TRY_STATUS(check_security_opts(hc));
  BERTH_TRY_STATUS(check_capabilities(hc));
  // --volumes-from: looked up now, mounted below under the mounts asked for explicitly.
  std::vector<MountPoint> inherited;
  auto vf = strings(hc, "VolumesFrom");
  if (!vf) return vf.error();
  if (*vf) {
    for (const auto& entry : **vf) {
      auto spec = parse_volumes_from(entry);
      if (!spec) return spec.error();
      if (!volumes_from) {
        return make_error(ErrorCode::kUnsupported, "--volumes-from is not supported here");
      }
      auto mounts = volumes_from(spec->container);
      if (!mounts) return mounts.error();
      for (auto& m : inherit_mounts(*mounts, spec->read_only)) {
        // A later source wins at the same destination, as in dockerd's map of mount points.
        std::erase_if(inherited, [&](const MountPoint& x) { return x.destination == m.destination; });
        inherited.push_back(std::move(m));
      }
    }
  }
  if (const auto* h = config.if_contains("Healthcheck"); h != nullptr && !h->is_null()) {
    BERTH_TRY_STATUS(validate_healthcheck(*h));
  }
  std::string netmode = str(hc, "NetworkMode");
  if (netmode.rfind("container:", 0) == 0 && netmode.size() <= 10) {
    return invalid("invalid network mode: " + netmode);
  }
  if (str(hc, "UsernsMode") != "" && str(hc, "UsernsMode") != "host") {
    return invalid("invalid USER mode: " + str(hc, "UsernsMode"));
  }
  for (const char* mode : {"PidMode", "UTSMode"}) {
    std::string v = str(hc, mode);
    if (!v.empty() && v != "host") {
      return make_error(ErrorCode::kUnsupported, std::string(mode) + " \"" + v + "\" is not supported (use host or leave it empty)");
    }
  }
  std::string ipc = str(hc, "IpcMode");
  if (ipc != "private" && ipc != "host" && ipc != "shareable" && ipc != "none") {
    return make_error(ErrorCode::kUnsupported, "IpcMode \"" + ipc + "\" is not supported");
  }

  // ---- merge with the image (dockerd's mergeAndVerifyConfig) -------------------------------
  const auto& img = image.container_config();
  if (str(config, "User").empty()) config["User"] = str(img, "User");
  // Env as dockerd merges it: the container's entries first, then the image's whose key the
  // container does not name; an entry without "=" ("FOO") stays, meaning "unset FOO" (it
  // hides the image's FOO and never reaches the process).
  std::vector<std::string> env;
  auto ctr_env = strings(config, "Env");
  if (!ctr_env) return ctr_env.error();
  if (*ctr_env) {
    for (const auto& e : **ctr_env) {
      if (e.empty() || e[0] == '=') return invalid("invalid environment variable: " + e);
      env.push_back(e);
    }
  }
  auto img_env = strings(img, "Env");
  if (img_env && *img_env) {
    for (const auto& e : **img_env) {
      auto key = env_key(e);
      if (std::none_of(env.begin(), env.end(), [&](const std::string& x) { return env_key(x) == key; })) {
        env.push_back(e);
      }
    }
  }
  if (std::none_of(env.begin(), env.end(), [](const std::string& e) { return env_key(e) == "PATH"; })) {
    env.insert(env.begin(), std::string(kDefaultPath));
  }
  config["Env"] = to_array(env);

  auto entrypoint = strings(config, "Entrypoint");
  if (!entrypoint) return entrypoint.error();
  auto cmd = strings(config, "Cmd");
  if (!cmd) return cmd.error();
  std::vector<std::string> ep, cm;
  if (*entrypoint) {
    ep = **entrypoint;
    // An explicit entrypoint clears the image's command.
    if (*cmd) cm = **cmd;
  } else {
    auto img_ep = strings(img, "Entrypoint");
    if (img_ep && *img_ep) ep = **img_ep;
    if (*cmd) {
      cm = **cmd;
    } else {
      auto img_cmd = strings(img, "Cmd");
      if (img_cmd && *img_cmd) cm = **img_cmd;
    }
  }
  // Entrypoint [""] means "no entrypoint" (docker run --entrypoint "").
  if (ep.size() == 1 && ep[0].empty()) ep.clear();
  config["Entrypoint"] = ep.empty() ? json::value(nullptr) : json::value(to_array(ep));
  config["Cmd"] = cm.empty() ? json::value(nullptr) : json::value(to_array(cm));
  std::vector<std::string> argv = ep;
  argv.insert(argv.end(), cm.begin(), cm.end());
  if (argv.empty()) return invalid("No command specified");
  out.path = argv[0];
  out.args.assign(argv.begin() + 1, argv.end());

  // Healthcheck: the container's fields over the image's, one by one (dockerd's merge).
  if (auto merged = merge_healthcheck(config.if_contains("Healthcheck"), img.if_contains("Healthcheck"));
      !merged.is_null()) {
    config["Healthcheck"] = std::move(merged);
  } else {
    config.erase("Healthcheck");
  }
  if (str(config, "WorkingDir").empty()) config["WorkingDir"] = str(img, "WorkingDir");
  if (auto wd = str(config, "WorkingDir"); !wd.empty() && !absolute(wd)) {
    return invalid("the working directory '" + wd + "' is invalid, it needs to be an absolute path");
  }
  if (str(config, "StopSignal").empty() && !str(img, "StopSignal").empty()) {
    config["StopSignal"] = str(img, "StopSignal");
  }
  if (auto sig = str(config, "StopSignal"); !sig.empty() && parse_signal(sig) == 0) {
    return invalid("Invalid signal: " + sig);
  }
  json::object labels;
  if (const auto* l = img.if_contains("Labels"); l != nullptr && l->is_object()) labels = l->get_object();
  if (const auto* l = config.if_contains("Labels"); l != nullptr && l->is_object()) {
    for (const auto& [k, v] : l->get_object()) {
      if (!v.is_string()) return invalid("label values must be strings");
      labels[k] = v;
    }
  }
  config["Labels"] = labels;
  json::object exposed;
  if (const auto* p = img.if_contains("ExposedPorts"); p != nullptr && p->is_object()) exposed = p->get_object();
  if (const auto* p = config.if_contains("ExposedPorts"); p != nullptr && p->is_object()) {
    for (const auto& [k, v] : p->get_object()) exposed[k] = v;
  }
  if (!exposed.empty()) config["ExposedPorts"] = exposed;
  json::object volumes;
  if (const auto* v = img.if_contains("Volumes"); v != nullptr && v->is_object()) volumes = v->get_object();
  if (const auto* v = config.if_contains("Volumes"); v != nullptr && v->is_object()) {
    for (const auto& [k, val] : v->get_object()) volumes[k] = val;
  }
  config["Volumes"] = volumes.empty() ? json::value(nullptr) : json::value(volumes);
  if (str(config, "Hostname").empty()) config["Hostname"] = id.substr(0, 12);
  config["Image"] = image_ref;
  for (const char* k : {"Domainname"}) {
    if (!config.contains(k)) config[k] = "";
  }
  for (const char* k : {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"}) {
    if (!config.contains(k) || !config[k].is_bool()) config[k] = false;
  }
  if (!config.contains("OnBuild")) config["OnBuild"] = nullptr;

  // ---- mounts ---------------------------------------------------------------------------------
  std::set<std::string> destinations;
  auto add_mount = [&](MountPoint mp) -> Status {
    if (!destinations.insert(mp.destination).second) {
      return invalid("Duplicate mount point: " + mp.destination);
    }
    out.mounts.push_back(std::move(mp));
    return {};
  };
  auto binds = strings(hc, "Binds");
  if (!binds) return binds.error();
  if (*binds) {
    for (const auto& b : **binds) {
      auto mp = parse_bind(b);
      if (!mp) return mp.error();
      BERTH_TRY_STATUS(add_mount(std::move(*mp)));
    }
  }
  if (const auto* mounts = hc.if_contains("Mounts"); mounts != nullptr && mounts->is_array()) {
    for (const auto& m : mounts->get_array()) {
      if (!m.is_object()) return invalid("invalid mount config: must be an object");
      auto mp = parse_mount_object(m.get_object());
      if (!mp) return mp.error();
      BERTH_TRY_STATUS(add_mount(std::move(*mp)));
    }
  }
  if (const auto* tmpfs = hc.if_contains("Tmpfs"); tmpfs != nullptr && tmpfs->is_object()) {
    for (const auto& [dst, opts] : tmpfs->get_object()) {
      std::string d(dst);
      if (!absolute(d)) return invalid("invalid tmpfs path: '" + d + "' mount path must be absolute");
      MountPoint mp;
      mp.type = "tmpfs";
      mp.destination = clean_path(d);
      mp.tmpfs_options = opts.is_string() ? std::string(opts.get_string()) : "";
      BERTH_TRY_STATUS(check_tmpfs_options(mp.tmpfs_options, "tmpfs " + d));
      BERTH_TRY_STATUS(add_mount(std::move(mp)));
    }
  }
  // Binds, mounts and tmpfs take a destination before --volumes-from does (dockerd's order).
  for (auto& m : inherited) {
    if (destinations.insert(m.destination).second) out.mounts.push_back(std::move(m));
  }
  // Anonymous volumes for Config.Volumes and the image's VOLUMEs not covered by a mount.
  for (const auto& [dst, _] : volumes) {
    std::string d = clean_path(std::string(dst));
    if (!absolute(d) || destinations.contains(d)) continue;
    MountPoint mp;
    mp.type = "volume";
    mp.anonymous = true;
    mp.driver = "local";
    mp.destination = d;
    BERTH_TRY_STATUS(add_mount(std::move(mp)));
  }
  std::sort(out.mounts.begin(), out.mounts.end(), [](const MountPoint& a, const MountPoint& b) {
    // Parents before children, so /data/sub mounts over /data.
    return std::count(a.destination.begin(), a.destination.end(), '/') <
           std::count(b.destination.begin(), b.destination.end(), '/');
  });

  out.config = std::move(config);
  out.host_config = std::move(hc);
  return out;
}

}  // namespace berth::core::container
