#include "core/container/oci_spec.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <set>

#include "core/common/json_fields.hpp"
#include "core/container/create_config.hpp"
#include "core/container/seccomp_default.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

using json_fields::str;
using json_fields::num;
using json_fields::flag;
std::vector<std::string> strings(const json::object& o, std::string_view k) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(k);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& e : v->get_array()) {
    if (e.is_string()) out.emplace_back(e.get_string());
  }
  return out;
}
json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object mount(std::string destination, std::string type, std::string source,
                   std::vector<std::string> options) {
  return json::object{{"destination", std::move(destination)},
                      {"type", std::move(type)},
                      {"source", std::move(source)},
                      {"options", to_array(options)}};
}

// Docker's capability computation: defaults (or all when privileged), minus drops, plus adds.
std::vector<std::string> capabilities(const json::object& hc) {
  if (flag(hc, "Privileged")) return all_capabilities();
  auto add = strings(hc, "CapAdd");
  auto drop = strings(hc, "CapDrop");
  bool add_all = std::find(add.begin(), add.end(), "ALL") != add.end();
  bool drop_all = std::find(drop.begin(), drop.end(), "ALL") != drop.end();
  std::vector<std::string> caps;
  if (add_all) {
    caps = all_capabilities();
  } else if (!drop_all) {
    caps = default_capabilities();
  }
  for (const auto& c : add) {
    if (c != "ALL" && std::find(caps.begin(), caps.end(), c) == caps.end()) caps.push_back(c);
  }
  if (!drop_all) {
    std::erase_if(caps, [&](const std::string& c) {
      return std::find(drop.begin(), drop.end(), c) != drop.end();
    });
  } else if (add_all) {
    caps.clear();
  }
  return caps;
}

json::array host_devices() {
  json::array out;
  std::error_code ec;
  static const std::set<std::string> kSkip = {"/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/fd",
                                              "/dev/hugepages", "/dev/console"};
  auto it = std::filesystem::recursive_directory_iterator(
      "/dev", std::filesystem::directory_options::skip_permission_denied, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string path = it->path().string();
    if (kSkip.contains(path)) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    if (path == "/dev/console" || path == "/dev/ptmx") continue;
    out.push_back(json::object{{"path", path},
                               {"type", S_ISCHR(st.st_mode) ? "c" : "b"},
                               {"major", static_cast<int64_t>(major(st.st_rdev))},
                               {"minor", static_cast<int64_t>(minor(st.st_rdev))},
                               {"fileMode", static_cast<int64_t>(st.st_mode & 07777)},
                               {"uid", 0},
                               {"gid", 0}});
  }
  return out;
}

Result<json::array> requested_devices(const json::object& hc) {
  json::array out;
  const auto* devs = hc.if_contains("Devices");
  if (devs == nullptr || !devs->is_array()) return out;
  for (const auto& d : devs->get_array()) {
    if (!d.is_object()) continue;
    std::string host = str(d.get_object(), "PathOnHost");
    std::string inside = str(d.get_object(), "PathInContainer");
    if (inside.empty()) inside = host;
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "error gathering device information while adding custom device \"" + host +
                            "\": no such file or directory");
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
      return make_error(ErrorCode::kInvalidArgument, "\"" + host + "\" is not a device node");
    }
    out.push_back(json::object{{"path", inside},
                               {"type", S_ISCHR(st.st_mode) ? "c" : "b"},
                               {"major", static_cast<int64_t>(major(st.st_rdev))},
                               {"minor", static_cast<int64_t>(minor(st.st_rdev))},
                               {"fileMode", static_cast<int64_t>(st.st_mode & 07777)},
                               {"uid", 0},
                               {"gid", 0}});
  }
  return out;
}

// The device cgroup: Docker's (runc's) default allow-list after a deny-all, so CAP_MKNOD alone
// cannot reach host devices; --device entries add their own rules; privileged allows all.
json::array device_rules(const json::object& hc, const json::array& devices) {
  if (flag(hc, "Privileged")) return json::array{json::object{{"allow", true}, {"access", "rwm"}}};
  auto rule = [](const char* type, int64_t major, int64_t minor, const char* access) {
    json::object r{{"allow", true}, {"type", type}, {"access", access}};
    if (major >= 0) r["major"] = major;
    if (minor >= 0) r["minor"] = minor;
    return r;
  };
  json::array rules{json::object{{"allow", false}, {"access", "rwm"}},
                    rule("c", -1, -1, "m"),  rule("b", -1, -1, "m"),
                    rule("c", 1, 3, "rwm"),  rule("c", 1, 8, "rwm"),  rule("c", 1, 7, "rwm"),
                    rule("c", 5, 0, "rwm"),  rule("c", 1, 5, "rwm"),  rule("c", 1, 9, "rwm"),
                    rule("c", 5, 1, "rwm"),  rule("c", 136, -1, "rwm"), rule("c", 5, 2, "rwm"),
                    rule("c", 10, 200, "rwm")};
  const auto* requested = hc.if_contains("Devices");
  size_t i = 0;
  for (const auto& d : devices) {
    const auto& o = d.as_object();
    std::string access = "rwm";
    if (requested != nullptr && requested->is_array() && i < requested->get_array().size() &&
        requested->get_array()[i].is_object()) {
      auto perms = str(requested->get_array()[i].get_object(), "CgroupPermissions");
      if (!perms.empty()) access = perms;
    }
    ++i;
    rules.push_back(json::object{{"allow", true},
                                 {"type", o.at("type")},
                                 {"major", o.at("major")},
                                 {"minor", o.at("minor")},
                                 {"access", access}});
  }
  return rules;
}

json::object resources(const json::object& hc, const SpecContext& ctx) {
  json::object r;
  json::object memory;
  int64_t mem = num(hc, "Memory");
  int64_t swap = num(hc, "MemorySwap");
  if (mem > 0) {
    memory["limit"] = mem;
    // Docker: an unset swap limit allows as much swap as memory (memory+swap = 2 x memory).
    if (ctx.swap_accounting) {
      if (swap == 0) memory["swap"] = mem * 2;
      else if (swap > 0) memory["swap"] = swap;
      else memory["swap"] = -1;
    }
  }
  if (auto res = num(hc, "MemoryReservation"); res > 0) memory["reservation"] = res;
  if (const auto* sw = hc.if_contains("MemorySwappiness"); sw != nullptr && sw->is_number() &&
                                                          sw->to_number<int64_t>() >= 0) {
    memory["swappiness"] = sw->to_number<int64_t>();
  }
  if (flag(hc, "OomKillDisable")) memory["disableOOMKiller"] = true;
  if (!memory.empty()) r["memory"] = std::move(memory);

  json::object cpu;
  if (auto shares = num(hc, "CpuShares"); shares > 0) cpu["shares"] = shares;
  if (auto nano = num(hc, "NanoCpus"); nano > 0) {
    cpu["period"] = 100000;
    cpu["quota"] = nano * 100000 / 1000000000;
  } else {
    if (auto q = num(hc, "CpuQuota"); q != 0) cpu["quota"] = q;
    if (auto p = num(hc, "CpuPeriod"); p > 0) cpu["period"] = p;
  }
  if (auto cpus = str(hc, "CpusetCpus"); !cpus.empty()) cpu["cpus"] = cpus;
  if (auto mems = str(hc, "CpusetMems"); !mems.empty()) cpu["mems"] = mems;
  if (!cpu.empty()) r["cpu"] = std::move(cpu);

  if (const auto* p = hc.if_contains("PidsLimit"); p != nullptr && p->is_number() &&
                                                  p->to_number<int64_t>() > 0) {
    r["pids"] = json::object{{"limit", p->to_number<int64_t>()}};
  }
  if (auto w = num(hc, "BlkioWeight"); w > 0) r["blockIO"] = json::object{{"weight", w}};
  return r;
}

Result<json::array> rlimits(const json::object& hc) {
  json::array out;
  const auto* u = hc.if_contains("Ulimits");
  if (u == nullptr || !u->is_array()) return out;
  for (const auto& e : u->get_array()) {
    if (!e.is_object()) continue;
    std::string name = str(e.get_object(), "Name");
    std::string type = "RLIMIT_";
    for (char c : name) type.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    out.push_back(json::object{{"type", type},
                               {"hard", num(e.get_object(), "Hard")},
                               {"soft", num(e.get_object(), "Soft")}});
  }
  return out;
}

// seccomp=unconfined | seccomp=<profile JSON> | default.
Result<json::value> seccomp(const json::object& hc, const std::vector<std::string>& caps) {
  if (flag(hc, "Privileged")) return json::value(nullptr);
  for (const auto& opt : strings(hc, "SecurityOpt")) {
    if (opt.rfind("seccomp", 0) != 0) continue;
    std::string value = opt.substr(std::min(opt.size(), std::string("seccomp").size() + 1));
    if (value == "unconfined") return json::value(nullptr);
    json::error_code ec;
    auto profile = json::parse(value, ec);
    if (ec || !profile.is_object()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Decoding seccomp profile failed: the profile must be JSON");
    }
    return profile;
  }
  return json::value(default_seccomp_profile(caps));
}

bool no_new_privileges(const json::object& hc) {
  for (const auto& opt : strings(hc, "SecurityOpt")) {
    if (opt == "no-new-privileges" || opt == "no-new-privileges:true" ||
        opt == "no-new-privileges=true") {
      return true;
    }
  }
  return false;
}

bool unconfined_paths(const json::object& hc) {
  for (const auto& opt : strings(hc, "SecurityOpt")) {
    if (opt == "systempaths=unconfined") return true;
  }
  return flag(hc, "Privileged");
}

}  // namespace

json::object build_resources(const json::object& hc, const SpecContext& ctx) {
  return resources(hc, ctx);
}

const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> kMasked = {
      "/proc/asound",       "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
      "/proc/keys",         "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
      "/proc/sched_debug",  "/proc/scsi",        "/sys/firmware",    "/sys/devices/virtual/powercap"};
  return kMasked;
}

const std::vector<std::string>& default_readonly_paths() {
  static const std::vector<std::string> kReadonly = {"/proc/bus", "/proc/fs", "/proc/irq",
                                                     "/proc/sys", "/proc/sysrq-trigger"};
  return kReadonly;
}

Result<json::object> build_oci_spec(const ContainerRecord& c, const SpecContext& ctx) {
  const auto& cfg = c.config;
  const auto& hc = c.host_config;
  bool privileged = flag(hc, "Privileged");
  auto caps = capabilities(hc);

  // ---- process ---------------------------------------------------------------------------
  // "FOO" without "=" in Config.Env means unset (dockerd's ReplaceOrAppendEnvValues): it stays
  // in the config, not in the process's environment.
  std::vector<std::string> env = strings(cfg, "Env");
  std::erase_if(env, [](const std::string& e) { return e.find('=') == std::string::npos; });
  auto has_env = [&](std::string_view key) {
    return std::any_of(env.begin(), env.end(), [&](const std::string& e) {
      return e.compare(0, key.size() + 1, std::string(key) + "=") == 0;
    });
  };
  if (!has_env("HOSTNAME")) env.push_back("HOSTNAME=" + str(cfg, "Hostname"));
  if (c.tty() && !has_env("TERM")) env.push_back("TERM=xterm");
  std::vector<std::string> args = {c.path};
  args.insert(args.end(), c.args.begin(), c.args.end());
  auto rl = rlimits(hc);
  if (!rl) return rl.error();
  std::string cwd = str(cfg, "WorkingDir");
  json::object process{
      {"terminal", c.tty()},
      {"user", json::object{{"uid", 0}, {"gid", 0}}},
      {"args", to_array(args)},
      {"env", to_array(env)},
      {"cwd", cwd.empty() ? "/" : cwd},
      {"capabilities", json::object{{"bounding", to_array(caps)},
                                    {"effective", to_array(caps)},
                                    {"permitted", to_array(caps)},
                                    {"inheritable", to_array(caps)}}},
      {"rlimits", std::move(*rl)},
      {"noNewPrivileges", no_new_privileges(hc)},
      {"oomScoreAdj", num(hc, "OomScoreAdj")}};
  json::object annotations;
  if (auto user = str(cfg, "User"); !user.empty()) annotations["org.berth.user"] = user;
  if (auto groups = strings(hc, "GroupAdd"); !groups.empty()) {
    std::string joined;
    for (const auto& g : groups) joined += (joined.empty() ? "" : ",") + g;
    annotations["org.berth.group-add"] = joined;
  }
  annotations["org.berth.container.name"] = c.bare_name();
  // Creating a missing working directory is what dockerd does at start.
  annotations["org.berth.create-cwd"] = "true";

  // ---- mounts (Docker's defaults, then the container's) ------------------------------------
  json::array mounts;
  mounts.push_back(mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  mounts.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  mounts.push_back(mount("/dev/pts", "devpts", "devpts",
                         {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  mounts.push_back(mount("/sys", "sysfs", "sysfs",
                         privileged ? std::vector<std::string>{"nosuid", "noexec", "nodev", "rw"}
                                    : std::vector<std::string>{"nosuid", "noexec", "nodev", "ro"}));
  mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                         {"nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"}));
  mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  std::string ipc = str(hc, "IpcMode");
  if (ipc != "host" && ipc != "none") {
    mounts.push_back(mount("/dev/shm", "tmpfs", "shm",
                           {"nosuid", "noexec", "nodev", "mode=1777",
                            "size=" + std::to_string(num(hc, "ShmSize"))}));
  }
  std::set<std::string> user_dests;
  for (const auto& m : c.mounts) user_dests.insert(m.destination);
  auto add_file = [&](const std::string& dest, const std::string& source) {
    if (!source.empty() && !user_dests.contains(dest)) {
      mounts.push_back(mount(dest, "bind", source, {"rbind", "rprivate"}));
    }
  };
  add_file("/etc/resolv.conf", c.resolv_conf_path);
  add_file("/etc/hostname", c.hostname_path);
  add_file("/etc/hosts", c.hosts_path);
  for (const auto& m : c.mounts) {
    if (m.type == "tmpfs") {
      std::vector<std::string> opts = {"nosuid", "nodev", "noexec"};
      bool has_mode = false;
      size_t pos = 0;
      while (pos <= m.tmpfs_options.size() && !m.tmpfs_options.empty()) {
        size_t comma = m.tmpfs_options.find(',', pos);
        if (comma == std::string::npos) comma = m.tmpfs_options.size();
        std::string opt = m.tmpfs_options.substr(pos, comma - pos);
        pos = comma + 1;
        if (opt.empty()) continue;
        if (opt.rfind("mode=", 0) == 0) has_mode = true;
        // An explicit exec/suid/dev in the options replaces Docker's safe default.
        if (opt == "exec") std::erase(opts, "noexec");
        else if (opt == "suid") std::erase(opts, "nosuid");
        else if (opt == "dev") std::erase(opts, "nodev");
        else opts.push_back(opt);
        if (pos > m.tmpfs_options.size()) break;
      }
      if (!has_mode) opts.push_back("mode=1777");
      mounts.push_back(mount(m.destination, "tmpfs", "tmpfs", opts));
      continue;
    }
    std::vector<std::string> opts = {"rbind", m.rw ? "rw" : "ro"};
    opts.push_back(m.propagation.empty() ? "rprivate" : m.propagation);
    mounts.push_back(mount(m.destination, "bind", m.source, opts));
  }

  // ---- linux -----------------------------------------------------------------------------
  json::array namespaces;
  namespaces.push_back(json::object{{"type", "mount"}});
  if (str(hc, "PidMode") != "host") namespaces.push_back(json::object{{"type", "pid"}});
  if (ipc != "host") namespaces.push_back(json::object{{"type", "ipc"}});
  if (str(hc, "UTSMode") != "host") namespaces.push_back(json::object{{"type", "uts"}});
  if (!ctx.netns_path.empty()) {
    namespaces.push_back(json::object{{"type", "network"}, {"path", ctx.netns_path}});
  } else if (!ctx.host_network) {
    namespaces.push_back(json::object{{"type", "network"}});
  }
  if (str(hc, "CgroupnsMode") == "private") namespaces.push_back(json::object{{"type", "cgroup"}});
  if (ctx.userns_remap != nullptr) namespaces.push_back(json::object{{"type", "user"}});

  json::array devices;
  if (privileged) {
    devices = host_devices();
  } else {
    auto requested = requested_devices(hc);
    if (!requested) return requested.error();
    devices = std::move(*requested);
  }
  auto sc = seccomp(hc, caps);
  if (!sc) return sc.error();
  json::object res = resources(hc, ctx);
  res["devices"] = device_rules(hc, devices);
  json::object linux{{"namespaces", std::move(namespaces)},
                     {"devices", std::move(devices)},
                     {"resources", std::move(res)}};
  if (auto parent = str(hc, "CgroupParent"); !parent.empty()) {
    while (!parent.empty() && parent.front() == '/') parent.erase(0, 1);
    linux["cgroupsPath"] = parent + "/" + c.id;
  }
  if (!unconfined_paths(hc)) {
    linux["maskedPaths"] = to_array(default_masked_paths());
    linux["readonlyPaths"] = to_array(default_readonly_paths());
  }
  if (!sc->is_null()) linux["seccomp"] = std::move(*sc);
  if (const auto* remap = ctx.userns_remap; remap != nullptr) {
    auto mapping = [](const config::IdRange& r) {
      return json::array{json::object{{"containerID", 0}, {"hostID", r.host}, {"size", r.size}}};
    };
    linux["uidMappings"] = mapping(remap->uids);
    linux["gidMappings"] = mapping(remap->gids);
  }
  if (const auto* sysctls = hc.if_contains("Sysctls"); sysctls != nullptr && sysctls->is_object()) {
    linux["sysctl"] = sysctls->get_object();
  }

  std::string hostname = str(cfg, "Hostname");
  if (auto dn = str(cfg, "Domainname"); !dn.empty()) annotations["org.berth.domainname"] = dn;
  // The image's root-owned files are the remapped root's (an idmapped rootfs), as dockerd gets
  // by chowning a copy of every layer.
  if (ctx.userns_remap != nullptr) annotations["org.berth.idmap-rootfs"] = "true";
  json::object spec{{"ociVersion", "1.0.2"},
                    {"process", std::move(process)},
                    {"root", json::object{{"path", "rootfs"}, {"readonly", flag(hc, "ReadonlyRootfs")}}},
                    {"hostname", str(hc, "UTSMode") == "host" ? json::value(nullptr) : json::value(hostname)},
                    {"mounts", std::move(mounts)},
                    {"annotations", std::move(annotations)},
                    {"linux", std::move(linux)}};
  return spec;
}

Result<json::object> build_exec_process(const ContainerRecord& c, const json::object& exec,
                                        const ResolvedUser& user) {
  auto cmd = strings(exec, "Cmd");
  if (cmd.empty()) return make_error(ErrorCode::kInvalidArgument, "No exec command specified");
  std::vector<std::string> env = strings(c.config, "Env");
  for (const auto& e : strings(exec, "Env")) {
    auto key = e.substr(0, e.find('='));
    std::erase_if(env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    env.push_back(e);
  }
  bool tty = flag(exec, "Tty");
  if (tty && std::none_of(env.begin(), env.end(), [](const std::string& e) { return e.rfind("TERM=", 0) == 0; })) {
    env.push_back("TERM=xterm");
  }
  auto caps = flag(exec, "Privileged") ? all_capabilities() : capabilities(c.host_config);
  std::string cwd = str(exec, "WorkingDir");
  if (cwd.empty()) cwd = str(c.config, "WorkingDir");
  json::array gids;
  for (auto g : user.additional_gids) gids.emplace_back(static_cast<int64_t>(g));
  if (!user.home.empty() &&
      std::none_of(env.begin(), env.end(), [](const std::string& e) { return e.rfind("HOME=", 0) == 0; })) {
    env.push_back("HOME=" + user.home);
  }
  json::object process{{"terminal", tty},
                       {"user", json::object{{"uid", static_cast<int64_t>(user.uid)},
                                             {"gid", static_cast<int64_t>(user.gid)},
                                             {"additionalGids", std::move(gids)}}},
                       {"args", to_array(cmd)},
                       {"env", to_array(env)},
                       {"cwd", cwd.empty() ? "/" : cwd},
                       {"capabilities", json::object{{"bounding", to_array(caps)},
                                                     {"effective", to_array(caps)},
                                                     {"permitted", to_array(caps)},
                                                     {"inheritable", to_array(caps)}}},
                       {"noNewPrivileges", no_new_privileges(c.host_config)}};
  return process;
}

}  // namespace berth::core::container
