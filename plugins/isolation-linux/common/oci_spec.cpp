#include "common/oci_spec.hpp"

#include <sys/resource.h>

#include <array>
#include <boost/json.hpp>
#include <limits>

namespace berth::plugins::isolation {
namespace {

namespace json = boost::json;

// Thrown inside this file only, caught by the public parse functions: keeps the walk over a
// deep document readable while the API stays Result-based.
struct SpecError {
  std::string message;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw SpecError{where + ": " + what};
}

const json::object& as_object(const json::value& v, const std::string& where) {
  if (!v.is_object()) fail(where, "must be an object");
  return v.get_object();
}

const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

std::string string_of(const json::value& v, const std::string& where) {
  if (!v.is_string()) fail(where, "must be a string");
  return std::string(v.get_string());
}

std::string opt_string(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = field(o, key);
  return v == nullptr ? std::string() : string_of(*v, where + "." + std::string(key));
}

bool opt_bool(const json::object& o, std::string_view key, const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return false;
  if (!v->is_bool()) fail(where + "." + std::string(key), "must be a boolean");
  return v->get_bool();
}

int64_t int_of(const json::value& v, const std::string& where) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(where, "out of range");
    }
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (d != static_cast<double>(static_cast<int64_t>(d))) fail(where, "must be an integer");
    return static_cast<int64_t>(d);
  }
  fail(where, "must be an integer");
}

uint64_t uint_of(const json::value& v, const std::string& where) {
  if (v.is_uint64()) return v.get_uint64();
  int64_t i = int_of(v, where);
  if (i < 0) fail(where, "must not be negative");
  return static_cast<uint64_t>(i);
}

uint32_t u32_of(const json::value& v, const std::string& where) {
  uint64_t u = uint_of(v, where);
  if (u > std::numeric_limits<uint32_t>::max()) fail(where, "out of range");
  return static_cast<uint32_t>(u);
}

std::optional<int64_t> opt_int(const json::object& o, std::string_view key,
                               const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  return int_of(*v, where + "." + std::string(key));
}

std::optional<uint64_t> opt_uint(const json::object& o, std::string_view key,
                                 const std::string& where) {
  const json::value* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  return uint_of(*v, where + "." + std::string(key));
}

std::vector<std::string> string_array(const json::object& o, std::string_view key,
                                      const std::string& where) {
  std::vector<std::string> out;
  const json::value* v = field(o, key);
  if (v == nullptr) return out;
  const std::string here = where + "." + std::string(key);
  if (!v->is_array()) fail(here, "must be an array of strings");
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) fail(here, "must be an array of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

std::vector<int> cap_array(const json::object& o, std::string_view key, const std::string& where) {
  std::vector<int> out;
  for (const auto& name : string_array(o, key, where)) {
    int n = capability_number(name);
    if (n < 0) fail(where + "." + std::string(key), "unknown capability \"" + name + "\"");
    out.push_back(n);
  }
  return out;
}

OciProcess process_of(const json::value& v, const std::string& where) {
  const auto& o = as_object(v, where);
  OciProcess p;
  p.terminal = opt_bool(o, "terminal", where);
  p.args = string_array(o, "args", where);
  if (p.args.empty() || p.args[0].empty()) {
    fail(where + ".args", "must be a non-empty array of strings");
  }
  p.env = string_array(o, "env", where);
  p.cwd = opt_string(o, "cwd", where);
  if (p.cwd.empty()) p.cwd = "/";
  if (p.cwd.front() != '/') fail(where + ".cwd", "must be an absolute path");
  if (const auto* u = field(o, "user")) {
    const std::string uw = where + ".user";
    const auto& uo = as_object(*u, uw);
    if (const auto* x = field(uo, "uid")) p.user.uid = u32_of(*x, uw + ".uid");
    if (const auto* x = field(uo, "gid")) p.user.gid = u32_of(*x, uw + ".gid");
    if (const auto* x = field(uo, "umask")) p.user.umask = u32_of(*x, uw + ".umask");
    if (const auto* x = field(uo, "additionalGids")) {
      if (!x->is_array()) fail(uw + ".additionalGids", "must be an array of integers");
      for (const auto& g : x->get_array()) {
        p.user.additional_gids.push_back(u32_of(g, uw + ".additionalGids"));
      }
    }
    p.user.username = opt_string(uo, "username", uw);
  }
  if (const auto* c = field(o, "capabilities")) {
    const std::string cw = where + ".capabilities";
    const auto& co = as_object(*c, cw);
    p.caps.bounding = cap_array(co, "bounding", cw);
    p.caps.effective = cap_array(co, "effective", cw);
    p.caps.permitted = cap_array(co, "permitted", cw);
    p.caps.inheritable = cap_array(co, "inheritable", cw);
    p.caps.ambient = cap_array(co, "ambient", cw);
  }
  if (const auto* r = field(o, "rlimits")) {
    const std::string rw = where + ".rlimits";
    if (!r->is_array()) fail(rw, "must be an array");
    for (const auto& item : r->get_array()) {
      const auto& ro = as_object(item, rw);
      Rlimit limit;
      limit.type = opt_string(ro, "type", rw);
      limit.resource = rlimit_number(limit.type);
      if (limit.resource < 0) fail(rw, "unknown rlimit type \"" + limit.type + "\"");
      limit.hard = opt_uint(ro, "hard", rw).value_or(0);
      limit.soft = opt_uint(ro, "soft", rw).value_or(0);
      if (limit.soft > limit.hard) {
        fail(rw, limit.type + ": soft limit " + std::to_string(limit.soft) +
                     " is above the hard limit " + std::to_string(limit.hard));
      }
      p.rlimits.push_back(std::move(limit));
    }
  }
  p.no_new_privileges = opt_bool(o, "noNewPrivileges", where);
  if (auto adj = opt_int(o, "oomScoreAdj", where)) {
    if (*adj < -1000 || *adj > 1000) fail(where + ".oomScoreAdj", "must be in [-1000, 1000]");
    p.oom_score_adj = static_cast<int>(*adj);
  }
  return p;
}

Resources resources_of(const json::value& v, const std::string& where) {
  const auto& o = as_object(v, where);
  Resources r;
  if (const auto* m = field(o, "memory")) {
    const std::string mw = where + ".memory";
    const auto& mo = as_object(*m, mw);
    r.memory_limit = opt_int(mo, "limit", mw);
    r.memory_swap = opt_int(mo, "swap", mw);
    r.memory_reservation = opt_int(mo, "reservation", mw);
    r.memory_swappiness = opt_uint(mo, "swappiness", mw);
    if (r.memory_swappiness && *r.memory_swappiness > 100) {
      fail(mw + ".swappiness", "must be in [0, 100]");
    }
    r.disable_oom_killer = opt_bool(mo, "disableOOMKiller", mw);
    if (r.memory_limit && *r.memory_limit == 0) r.memory_limit.reset();
    if (r.memory_swap && *r.memory_swap == 0) r.memory_swap.reset();
    if (r.memory_limit && *r.memory_limit > 0 && r.memory_swap && *r.memory_swap > 0 &&
        *r.memory_swap < *r.memory_limit) {
      fail(mw + ".swap", "memory+swap limit must not be below the memory limit");
    }
  }
  if (const auto* c = field(o, "cpu")) {
    const std::string cw = where + ".cpu";
    const auto& co = as_object(*c, cw);
    r.cpu_shares = opt_uint(co, "shares", cw);
    if (r.cpu_shares && *r.cpu_shares == 0) r.cpu_shares.reset();
    r.cpu_quota = opt_int(co, "quota", cw);
    if (r.cpu_quota && *r.cpu_quota == 0) r.cpu_quota.reset();
    r.cpu_period = opt_uint(co, "period", cw);
    if (r.cpu_period && *r.cpu_period == 0) r.cpu_period.reset();
    r.cpus = opt_string(co, "cpus", cw);
    r.mems = opt_string(co, "mems", cw);
  }
  if (const auto* p = field(o, "pids")) {
    const std::string pw = where + ".pids";
    r.pids_limit = opt_int(as_object(*p, pw), "limit", pw);
  }
  if (const auto* b = field(o, "blockIO")) {
    const std::string bw = where + ".blockIO";
    if (auto w = opt_uint(as_object(*b, bw), "weight", bw)) {
      if (*w != 0 && (*w < 10 || *w > 1000)) fail(bw + ".weight", "must be in [10, 1000]");
      if (*w != 0) r.blkio_weight = static_cast<uint16_t>(*w);
    }
  }
  if (const auto* d = field(o, "devices")) {
    const std::string dw = where + ".devices";
    if (!d->is_array()) fail(dw, "must be an array");
    for (const auto& item : d->get_array()) {
      const auto& dobj = as_object(item, dw);
      DeviceRule rule;
      rule.allow = opt_bool(dobj, "allow", dw);
      std::string type = opt_string(dobj, "type", dw);
      if (type.empty()) type = "a";
      if (type != "a" && type != "c" && type != "b") fail(dw + ".type", "must be a, c or b");
      rule.type = type[0];
      rule.major = opt_int(dobj, "major", dw);
      rule.minor = opt_int(dobj, "minor", dw);
      rule.access = opt_string(dobj, "access", dw);
      if (rule.access.empty()) rule.access = "rwm";
      for (char ch : rule.access) {
        if (ch != 'r' && ch != 'w' && ch != 'm') fail(dw + ".access", "must be made of r, w, m");
      }
      r.devices.push_back(rule);
    }
  }
  return r;
}

SeccompSpec seccomp_of(const json::value& v, const std::string& where) {
  const auto& o = as_object(v, where);
  SeccompSpec s;
  s.default_action = opt_string(o, "defaultAction", where);
  if (s.default_action.empty()) fail(where + ".defaultAction", "is required");
  if (auto e = opt_uint(o, "defaultErrnoRet", where))
    s.default_errno_ret = static_cast<uint32_t>(*e);
  s.architectures = string_array(o, "architectures", where);
  if (const auto* list = field(o, "syscalls")) {
    const std::string lw = where + ".syscalls";
    if (!list->is_array()) fail(lw, "must be an array");
    size_t i = 0;
    for (const auto& item : list->get_array()) {
      const std::string iw = lw + "[" + std::to_string(i++) + "]";
      const auto& io = as_object(item, iw);
      SeccompRule rule;
      rule.names = string_array(io, "names", iw);
      rule.action = opt_string(io, "action", iw);
      if (rule.action.empty()) fail(iw + ".action", "is required");
      if (auto e = opt_uint(io, "errnoRet", iw)) rule.errno_ret = static_cast<uint32_t>(*e);
      if (const auto* args = field(io, "args")) {
        if (!args->is_array()) fail(iw + ".args", "must be an array");
        for (const auto& a : args->get_array()) {
          const auto& ao = as_object(a, iw + ".args");
          SeccompArg arg;
          arg.index = static_cast<unsigned>(opt_uint(ao, "index", iw + ".args").value_or(0));
          if (arg.index > 5) fail(iw + ".args.index", "must be in [0, 5]");
          arg.value = opt_uint(ao, "value", iw + ".args").value_or(0);
          arg.value_two = opt_uint(ao, "valueTwo", iw + ".args").value_or(0);
          arg.op = opt_string(ao, "op", iw + ".args");
          rule.args.push_back(std::move(arg));
        }
      }
      s.syscalls.push_back(std::move(rule));
    }
  }
  return s;
}

std::vector<IdMapping> mappings_of(const json::object& o, std::string_view key,
                                   const std::string& where) {
  std::vector<IdMapping> out;
  const json::value* v = field(o, key);
  if (v == nullptr) return out;
  const std::string mw = where + "." + std::string(key);
  if (!v->is_array()) fail(mw, "must be an array");
  for (const auto& item : v->get_array()) {
    const auto& mo = as_object(item, mw);
    IdMapping m;
    if (const auto* x = field(mo, "containerID")) m.container_id = u32_of(*x, mw);
    if (const auto* x = field(mo, "hostID")) m.host_id = u32_of(*x, mw);
    if (const auto* x = field(mo, "size")) m.size = u32_of(*x, mw);
    out.push_back(m);
  }
  return out;
}

OciSpec spec_of(const json::value& v) {
  const std::string where = "oci spec";
  const auto& o = as_object(v, where);
  OciSpec s;
  const json::value* process = field(o, "process");
  if (process == nullptr) fail(where + ".process", "is required");
  s.process = process_of(*process, "process");
  if (const auto* root = field(o, "root")) {
    const auto& ro = as_object(*root, "root");
    s.root_path = opt_string(ro, "path", "root");
    s.root_readonly = opt_bool(ro, "readonly", "root");
  }
  s.hostname = opt_string(o, "hostname", where);
  s.domainname = opt_string(o, "domainname", where);
  if (const auto* mounts = field(o, "mounts")) {
    if (!mounts->is_array()) fail("mounts", "must be an array");
    size_t i = 0;
    for (const auto& item : mounts->get_array()) {
      const std::string mw = "mounts[" + std::to_string(i++) + "]";
      const auto& mo = as_object(item, mw);
      OciMount m;
      m.destination = opt_string(mo, "destination", mw);
      if (m.destination.empty() || m.destination.front() != '/') {
        fail(mw + ".destination", "must be an absolute path");
      }
      m.type = opt_string(mo, "type", mw);
      m.source = opt_string(mo, "source", mw);
      m.options = string_array(mo, "options", mw);
      if (m.type.empty()) {
        // runc's rule: no type but a bind option makes a bind mount.
        for (const auto& opt : m.options) {
          if (opt == "bind" || opt == "rbind") m.type = "bind";
        }
        if (m.type.empty()) fail(mw + ".type", "is required");
      }
      s.mounts.push_back(std::move(m));
    }
  }
  if (const auto* annotations = field(o, "annotations")) {
    for (const auto& [k, val] : as_object(*annotations, "annotations")) {
      s.annotations[std::string(k)] = string_of(val, "annotations." + std::string(k));
    }
  }
  if (const auto* lin = field(o, "linux")) {
    const std::string lw = "linux";
    const auto& lo = as_object(*lin, lw);
    if (const auto* ns = field(lo, "namespaces")) {
      if (!ns->is_array()) fail(lw + ".namespaces", "must be an array");
      for (const auto& item : ns->get_array()) {
        const auto& no = as_object(item, lw + ".namespaces");
        OciNamespace n;
        n.type = opt_string(no, "type", lw + ".namespaces");
        n.path = opt_string(no, "path", lw + ".namespaces");
        static constexpr std::array<std::string_view, 8> kTypes = {
            "pid", "network", "ipc", "uts", "mount", "cgroup", "user", "time"};
        bool known = false;
        for (auto t : kTypes) known = known || n.type == t;
        if (!known) fail(lw + ".namespaces", "unknown namespace type \"" + n.type + "\"");
        for (const auto& other : s.namespaces) {
          if (other.type == n.type) fail(lw + ".namespaces", "duplicate type \"" + n.type + "\"");
        }
        s.namespaces.push_back(std::move(n));
      }
    }
    s.uid_mappings = mappings_of(lo, "uidMappings", lw);
    s.gid_mappings = mappings_of(lo, "gidMappings", lw);
    if (const auto* devs = field(lo, "devices")) {
      if (!devs->is_array()) fail(lw + ".devices", "must be an array");
      for (const auto& item : devs->get_array()) {
        const std::string dw = lw + ".devices";
        const auto& dobj = as_object(item, dw);
        OciDevice d;
        d.path = opt_string(dobj, "path", dw);
        if (d.path.size() < 6 || d.path.substr(0, 5) != "/dev/") {
          fail(dw + ".path", "must be below /dev: \"" + d.path + "\"");
        }
        std::string type = opt_string(dobj, "type", dw);
        if (type != "c" && type != "b" && type != "u" && type != "p") {
          fail(dw + ".type", "must be c, b, u or p");
        }
        d.type = type[0] == 'u' ? 'c' : type[0];
        d.major = opt_int(dobj, "major", dw).value_or(0);
        d.minor = opt_int(dobj, "minor", dw).value_or(0);
        if (auto m = opt_uint(dobj, "fileMode", dw)) d.file_mode = static_cast<uint32_t>(*m);
        if (auto u = opt_uint(dobj, "uid", dw)) d.uid = static_cast<uint32_t>(*u);
        if (auto g = opt_uint(dobj, "gid", dw)) d.gid = static_cast<uint32_t>(*g);
        s.devices.push_back(std::move(d));
      }
    }
    s.cgroups_path = opt_string(lo, "cgroupsPath", lw);
    if (const auto* res = field(lo, "resources"))
      s.resources = resources_of(*res, lw + ".resources");
    if (const auto* sysctl = field(lo, "sysctl")) {
      for (const auto& [k, val] : as_object(*sysctl, lw + ".sysctl")) {
        std::string key(k);
        if (key.empty() || key.find("..") != std::string::npos || key.front() == '/' ||
            key.front() == '.') {
          fail(lw + ".sysctl", "invalid key \"" + key + "\"");
        }
        s.sysctl.emplace_back(key, string_of(val, lw + ".sysctl." + key));
      }
    }
    if (const auto* sec = field(lo, "seccomp")) s.seccomp = seccomp_of(*sec, lw + ".seccomp");
    s.masked_paths = string_array(lo, "maskedPaths", lw);
    s.readonly_paths = string_array(lo, "readonlyPaths", lw);
    s.rootfs_propagation = opt_string(lo, "rootfsPropagation", lw);
  }
  return s;
}

template <class T, class F>
sdk::Result<T> guarded_parse(std::string_view text, const char* what, F&& f) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                           std::string(what) + ": not valid JSON: " + ec.message());
  }
  try {
    return f(v);
  } catch (const SpecError& e) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, std::string(what) + ": " + e.message);
  }
}

template <class T, class F>
sdk::Result<T> guarded_value(const json::value& v, const char* what, F&& f) {
  try {
    return f(v);
  } catch (const SpecError& e) {
    return sdk::make_error(sdk::ErrorCode::kInvalidArgument, std::string(what) + ": " + e.message);
  }
}

constexpr std::array<std::string_view, kMaxKnownCapability + 1> kCapNames = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

struct RlimitName {
  std::string_view name;
  int resource;
};
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

}  // namespace

const OciNamespace* OciSpec::find_namespace(std::string_view type) const {
  for (const auto& ns : namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

sdk::Result<OciSpec> parse_spec(std::string_view text) {
  return guarded_parse<OciSpec>(text, "oci spec", [](const json::value& v) { return spec_of(v); });
}
sdk::Result<OciSpec> parse_spec(const json::value& value) {
  return guarded_value<OciSpec>(value, "oci spec", [](const json::value& v) { return spec_of(v); });
}
sdk::Result<OciProcess> parse_process(std::string_view text) {
  return guarded_parse<OciProcess>(text, "oci process",
                                   [](const json::value& v) { return process_of(v, "process"); });
}
sdk::Result<OciProcess> parse_process(const json::value& value) {
  return guarded_value<OciProcess>(value, "oci process",
                                   [](const json::value& v) { return process_of(v, "process"); });
}
sdk::Result<Resources> parse_resources(std::string_view text) {
  return guarded_parse<Resources>(
      text, "resources", [](const json::value& v) { return resources_of(v, "resources"); });
}
sdk::Result<Resources> parse_resources(const json::value& value) {
  return guarded_value<Resources>(
      value, "resources", [](const json::value& v) { return resources_of(v, "resources"); });
}

json::value mounts_to_json(const std::vector<sdk::Mount>& mounts) {
  json::array out;
  for (const auto& m : mounts) {
    json::array options;
    for (const auto& o : m.options) options.emplace_back(o);
    out.push_back(json::object{{"type", m.type},
                               {"source", m.source},
                               {"target", m.target},
                               {"options", std::move(options)}});
  }
  return out;
}

sdk::Result<std::vector<sdk::Mount>> mounts_from_json(const json::value& value) {
  return guarded_value<std::vector<sdk::Mount>>(value, "rootfs mounts", [](const json::value& v) {
    std::vector<sdk::Mount> out;
    if (!v.is_array()) fail("rootfs", "must be an array");
    for (const auto& item : v.get_array()) {
      const auto& o = as_object(item, "rootfs");
      sdk::Mount m;
      m.type = opt_string(o, "type", "rootfs");
      m.source = opt_string(o, "source", "rootfs");
      m.target = opt_string(o, "target", "rootfs");
      m.options = string_array(o, "options", "rootfs");
      out.push_back(std::move(m));
    }
    return out;
  });
}

int capability_number(std::string_view name) {
  for (size_t i = 0; i < kCapNames.size(); ++i) {
    if (kCapNames[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view capability_name(int number) {
  if (number < 0 || number > kMaxKnownCapability) return "";
  return kCapNames[static_cast<size_t>(number)];
}

int rlimit_number(std::string_view name) {
  for (const auto& r : kRlimits) {
    if (r.name == name) return r.resource;
  }
  return -1;
}

}  // namespace berth::plugins::isolation
