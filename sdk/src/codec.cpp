// JSON shapes of the SDK types (see abi.h). Decoding is lenient about missing fields (they keep
// their defaults, so a newer peer may add fields) and strict about wrong types.
#include "berth/sdk/codec.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "codec_internal.hpp"

namespace json = boost::json;

namespace berth::sdk {

std::string_view snapshot_kind_name(SnapshotKind kind) {
  switch (kind) {
    case SnapshotKind::kView: return "view";
    case SnapshotKind::kActive: return "active";
    case SnapshotKind::kCommitted: return "committed";
  }
  return "active";
}

std::string_view task_status_name(TaskStatus status) {
  switch (status) {
    case TaskStatus::kCreated: return "created";
    case TaskStatus::kRunning: return "running";
    case TaskStatus::kPaused: return "paused";
    case TaskStatus::kStopped: return "stopped";
  }
  return "stopped";
}

namespace codec {
namespace {

using namespace codec_internal;

// A nested JSON document carried as a value; encoded back to text for the C++ side.
std::string raw(const json::object& o, std::string_view key, std::string_view fallback) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string(fallback);
  return json::serialize(*v);
}

json::value parse_raw(std::string_view text, std::string_view what) {
  if (text.empty()) return json::object();
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw ShapeError(std::string(what) + " is not valid JSON: " + ec.message());
  return v;
}

// ---- encoders -------------------------------------------------------------------------------

json::object labels_value(const Labels& labels) {
  json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return o;
}

Labels labels_of(const json::value& v) {
  Labels out;
  if (v.is_null()) return out;
  for (const auto& [k, val] : as_object(v, "labels")) {
    if (!val.is_string()) throw ShapeError("label \"" + std::string(k) + "\" must be a string");
    out.emplace(std::string(k), std::string(val.get_string()));
  }
  return out;
}

json::value mount_value(const Mount& m) {
  json::array options;
  for (const auto& opt : m.options) options.emplace_back(opt);
  return json::object{{"type", m.type},
                      {"source", m.source},
                      {"target", m.target},
                      {"options", std::move(options)}};
}

Mount mount_of(const json::value& v) {
  const auto& o = as_object(v, "mount");
  Mount m{str(o, "type"), str(o, "source"), str(o, "target"), {}};
  if (const auto* opts = o.if_contains("options"); opts != nullptr && !opts->is_null()) {
    for (const auto& opt : as_array(*opts, "mount options")) {
      if (!opt.is_string()) throw ShapeError("mount options must be strings");
      m.options.emplace_back(opt.get_string());
    }
  }
  return m;
}

SnapshotKind kind_of(std::string_view name) {
  if (name == "view") return SnapshotKind::kView;
  if (name == "committed") return SnapshotKind::kCommitted;
  if (name == "active" || name.empty()) return SnapshotKind::kActive;
  throw ShapeError("unknown snapshot kind \"" + std::string(name) + "\"");
}

json::value snapshot_value(const SnapshotInfo& s) {
  return json::object{{"name", s.name},
                      {"parent", s.parent},
                      {"kind", snapshot_kind_name(s.kind)},
                      {"labels", labels_value(s.labels)},
                      {"created_unix_nano", s.created_unix_nano},
                      {"updated_unix_nano", s.updated_unix_nano}};
}

SnapshotInfo snapshot_of(const json::value& v) {
  const auto& o = as_object(v, "snapshot info");
  SnapshotInfo s;
  s.name = str(o, "name");
  s.parent = str(o, "parent");
  s.kind = kind_of(str(o, "kind"));
  if (const auto* l = o.if_contains("labels")) s.labels = labels_of(*l);
  s.created_unix_nano = i64(o, "created_unix_nano");
  s.updated_unix_nano = i64(o, "updated_unix_nano");
  return s;
}

TaskStatus task_status_of(std::string_view name) {
  if (name == "created") return TaskStatus::kCreated;
  if (name == "running") return TaskStatus::kRunning;
  if (name == "paused") return TaskStatus::kPaused;
  if (name == "stopped") return TaskStatus::kStopped;
  throw ShapeError("unknown task status \"" + std::string(name) + "\"");
}

json::value task_value(const TaskState& t) {
  return json::object{{"id", t.id},
                      {"status", task_status_name(t.status)},
                      {"pid", t.pid},
                      {"exit_code", t.exit_code},
                      {"oom_killed", t.oom_killed},
                      {"started_at_unix_nano", t.started_at_unix_nano},
                      {"exited_at_unix_nano", t.exited_at_unix_nano}};
}

TaskState task_of(const json::value& v) {
  const auto& o = as_object(v, "task state");
  TaskState t;
  t.id = str(o, "id");
  t.status = task_status_of(str(o, "status"));
  t.pid = static_cast<int>(i64(o, "pid"));
  t.exit_code = static_cast<int>(i64(o, "exit_code"));
  t.oom_killed = boolean(o, "oom_killed");
  t.started_at_unix_nano = i64(o, "started_at_unix_nano");
  t.exited_at_unix_nano = i64(o, "exited_at_unix_nano");
  return t;
}

json::value stdio_value(const StdioSpec& s) {
  return json::object{{"terminal", s.terminal}, {"stdin", s.stdin}, {"stdin_once", s.stdin_once}};
}

StdioSpec stdio_of(const json::object& parent) {
  StdioSpec s;
  if (const auto* v = parent.if_contains("stdio"); v != nullptr && !v->is_null()) {
    const auto& o = as_object(*v, "stdio");
    s.terminal = boolean(o, "terminal");
    s.stdin = boolean(o, "stdin");
    s.stdin_once = boolean(o, "stdin_once");
  }
  return s;
}

std::vector<std::string> strings_of(const json::value& v, std::string_view what) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  for (const auto& s : as_array(v, what)) {
    if (!s.is_string()) throw ShapeError(std::string(what) + " must hold strings");
    out.emplace_back(s.get_string());
  }
  return out;
}

// ---- per type -------------------------------------------------------------------------------

template <class T>
struct Codec;

template <>
struct Codec<Labels> {
  static json::value encode(const Labels& l) { return labels_value(l); }
  static Labels decode(const json::value& v) { return labels_of(v); }
};

template <>
struct Codec<DriverInfo> {
  static json::value encode(const DriverInfo& d) {
    json::array caps;
    for (const auto& c : d.capabilities) caps.emplace_back(c);
    json::array status;
    for (const auto& [k, v] : d.status) status.emplace_back(json::array{json::string(k), json::string(v)});
    return json::object{{"name", d.name}, {"capabilities", std::move(caps)}, {"status", std::move(status)}};
  }
  static DriverInfo decode(const json::value& v) {
    const auto& o = as_object(v, "driver info");
    DriverInfo d;
    d.name = str(o, "name");
    if (const auto* c = o.if_contains("capabilities")) d.capabilities = strings_of(*c, "capabilities");
    if (const auto* s = o.if_contains("status"); s != nullptr && !s->is_null()) {
      for (const auto& pair : as_array(*s, "status")) {
        auto kv = strings_of(pair, "status pair");
        if (kv.size() != 2) throw ShapeError("status entries must be [key, value] pairs");
        d.status.emplace_back(kv[0], kv[1]);
      }
    }
    return d;
  }
};

template <>
struct Codec<std::vector<Mount>> {
  static json::value encode(const std::vector<Mount>& mounts) {
    json::array a;
    for (const auto& m : mounts) a.push_back(mount_value(m));
    return a;
  }
  static std::vector<Mount> decode(const json::value& v) {
    std::vector<Mount> out;
    for (const auto& m : as_array(v, "mounts")) out.push_back(mount_of(m));
    return out;
  }
};

template <>
struct Codec<SnapshotInfo> {
  static json::value encode(const SnapshotInfo& s) { return snapshot_value(s); }
  static SnapshotInfo decode(const json::value& v) { return snapshot_of(v); }
};

template <>
struct Codec<std::vector<SnapshotInfo>> {
  static json::value encode(const std::vector<SnapshotInfo>& list) {
    json::array a;
    for (const auto& s : list) a.push_back(snapshot_value(s));
    return a;
  }
  static std::vector<SnapshotInfo> decode(const json::value& v) {
    std::vector<SnapshotInfo> out;
    for (const auto& s : as_array(v, "snapshot list")) out.push_back(snapshot_of(s));
    return out;
  }
};

template <>
struct Codec<Usage> {
  static json::value encode(const Usage& u) {
    return json::object{{"size", u.size}, {"inodes", u.inodes}};
  }
  static Usage decode(const json::value& v) {
    const auto& o = as_object(v, "usage");
    return Usage{i64(o, "size"), i64(o, "inodes")};
  }
};

template <>
struct Codec<WalkFilter> {
  static json::value encode(const WalkFilter& f) {
    json::object o;
    if (!f.parent.empty()) o["parent"] = f.parent;
    if (f.kind) o["kind"] = snapshot_kind_name(*f.kind);
    return o;
  }
  static WalkFilter decode(const json::value& v) {
    const auto& o = as_object(v, "walk filter");
    WalkFilter f;
    f.parent = str(o, "parent");
    if (auto k = str(o, "kind"); !k.empty()) f.kind = kind_of(k);
    return f;
  }
};

template <>
struct Codec<NetworkSpec> {
  static json::value encode(const NetworkSpec& s) {
    json::array v4;
    for (const auto& r : s.ipv4) v4.emplace_back(json::object{{"subnet", r.subnet}, {"gateway", r.gateway}});
    return json::object{{"id", s.id},           {"name", s.name},
                        {"options", parse_raw(s.options_json, "network options")},
                        {"ipv4", std::move(v4)}, {"internal", s.internal},
                        {"restore", s.restore}};
  }
  static NetworkSpec decode(const json::value& v) {
    const auto& o = as_object(v, "network spec");
    NetworkSpec s;
    s.id = str(o, "id");
    s.name = str(o, "name");
    s.options_json = raw(o, "options", "{}");
    if (const auto* a = o.if_contains("ipv4"); a != nullptr && !a->is_null()) {
      for (const auto& r : as_array(*a, "ipv4")) {
        const auto& ro = as_object(r, "ipv4 range");
        s.ipv4.push_back(IpamRange{str(ro, "subnet"), str(ro, "gateway")});
      }
    }
    s.internal = boolean(o, "internal");
    s.restore = boolean(o, "restore");
    return s;
  }
};

template <>
struct Codec<EndpointSpec> {
  static json::value encode(const EndpointSpec& s) {
    return json::object{{"network_id", s.network_id},
                        {"endpoint_id", s.endpoint_id},
                        {"address", s.address},
                        {"mac_address", s.mac_address},
                        {"options", parse_raw(s.options_json, "endpoint options")}};
  }
  static EndpointSpec decode(const json::value& v) {
    const auto& o = as_object(v, "endpoint spec");
    return EndpointSpec{str(o, "network_id"), str(o, "endpoint_id"), str(o, "address"),
                        str(o, "mac_address"), raw(o, "options", "{}")};
  }
};

template <>
struct Codec<EndpointResult> {
  static json::value encode(const EndpointResult& r) {
    return json::object{{"address", r.address}, {"mac_address", r.mac_address}};
  }
  static EndpointResult decode(const json::value& v) {
    const auto& o = as_object(v, "endpoint result");
    return EndpointResult{str(o, "address"), str(o, "mac_address")};
  }
};

template <>
struct Codec<JoinSpec> {
  static json::value encode(const JoinSpec& s) {
    return json::object{{"network_id", s.network_id},   {"endpoint_id", s.endpoint_id},
                        {"netns_path", s.netns_path},   {"container_id", s.container_id},
                        {"ifname_hint", s.ifname_hint}};
  }
  static JoinSpec decode(const json::value& v) {
    const auto& o = as_object(v, "join spec");
    return JoinSpec{str(o, "network_id"), str(o, "endpoint_id"), str(o, "netns_path"),
                    str(o, "container_id"), str(o, "ifname_hint")};
  }
};

template <>
struct Codec<JoinResult> {
  static json::value encode(const JoinResult& r) {
    json::array routes;
    for (const auto& rt : r.routes) {
      routes.emplace_back(json::object{{"destination", rt.destination}, {"gateway", rt.gateway}});
    }
    return json::object{{"interface", r.interface_name}, {"gateway", r.gateway}, {"routes", std::move(routes)}};
  }
  static JoinResult decode(const json::value& v) {
    const auto& o = as_object(v, "join result");
    JoinResult r{str(o, "interface"), str(o, "gateway"), {}};
    if (const auto* a = o.if_contains("routes"); a != nullptr && !a->is_null()) {
      for (const auto& rt : as_array(*a, "routes")) {
        const auto& ro = as_object(rt, "route");
        r.routes.push_back(Route{str(ro, "destination"), str(ro, "gateway")});
      }
    }
    return r;
  }
};

template <>
struct Codec<std::vector<PortMapping>> {
  static json::value encode(const std::vector<PortMapping>& ports) {
    json::array a;
    for (const auto& p : ports) {
      a.emplace_back(json::object{{"protocol", p.protocol},
                                  {"host_ip", p.host_ip},
                                  {"host_port", p.host_port},
                                  {"container_port", p.container_port}});
    }
    return a;
  }
  static std::vector<PortMapping> decode(const json::value& v) {
    std::vector<PortMapping> out;
    for (const auto& p : as_array(v, "ports")) {
      const auto& o = as_object(p, "port mapping");
      PortMapping m;
      m.protocol = str(o, "protocol");
      if (m.protocol.empty()) m.protocol = "tcp";
      m.host_ip = str(o, "host_ip");
      auto hp = i64(o, "host_port");
      auto cp = i64(o, "container_port");
      if (hp < 0 || hp > 65535 || cp < 0 || cp > 65535) throw ShapeError("port out of range");
      m.host_port = static_cast<uint16_t>(hp);
      m.container_port = static_cast<uint16_t>(cp);
      out.push_back(m);
    }
    return out;
  }
};

template <>
struct Codec<RepoRef> {
  static json::value encode(const RepoRef& r) {
    return json::object{{"registry", r.registry}, {"repository", r.repository}, {"insecure", r.insecure}};
  }
  static RepoRef decode(const json::value& v) {
    const auto& o = as_object(v, "repository");
    return RepoRef{str(o, "registry"), str(o, "repository"), boolean(o, "insecure")};
  }
};

template <>
struct Codec<Descriptor> {
  static json::value encode(const Descriptor& d) {
    return json::object{{"media_type", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  }
  static Descriptor decode(const json::value& v) {
    const auto& o = as_object(v, "descriptor");
    return Descriptor{str(o, "media_type"), str(o, "digest"), i64(o, "size")};
  }
};

template <>
struct Codec<SearchQuery> {
  static json::value encode(const SearchQuery& q) {
    return json::object{{"registry", q.registry}, {"insecure", q.insecure}, {"term", q.term}, {"limit", q.limit}};
  }
  static SearchQuery decode(const json::value& v) {
    const auto& o = as_object(v, "search query");
    auto limit = i64(o, "limit");
    if (limit < 0 || limit > 1000) throw ShapeError("search limit out of range");
    return SearchQuery{str(o, "registry"), boolean(o, "insecure"), str(o, "term"), static_cast<int>(limit)};
  }
};

template <>
struct Codec<std::vector<SearchResult>> {
  static json::value encode(const std::vector<SearchResult>& list) {
    json::array a;
    for (const auto& r : list) {
      a.emplace_back(json::object{{"name", r.name},
                                  {"description", r.description},
                                  {"star_count", r.star_count},
                                  {"is_official", r.is_official},
                                  {"is_automated", r.is_automated}});
    }
    return a;
  }
  static std::vector<SearchResult> decode(const json::value& v) {
    if (!v.is_array()) throw ShapeError("search results: expected an array");
    std::vector<SearchResult> out;
    for (const auto& e : v.get_array()) {
      const auto& o = as_object(e, "search result");
      out.push_back(SearchResult{str(o, "name"), str(o, "description"), i64(o, "star_count"),
                                 boolean(o, "is_official"), boolean(o, "is_automated")});
    }
    return out;
  }
};

template <>
struct Codec<Credentials> {
  static json::value encode(const Credentials& c) {
    json::object o;
    if (!c.username.empty()) o["username"] = c.username;
    if (!c.password.empty()) o["password"] = c.password;
    if (!c.identity_token.empty()) o["identity_token"] = c.identity_token;
    return o;
  }
  static Credentials decode(const json::value& v) {
    const auto& o = as_object(v, "credentials");
    return Credentials{str(o, "username"), str(o, "password"), str(o, "identity_token")};
  }
};

template <>
struct Codec<LoginResult> {
  static json::value encode(const LoginResult& r) {
    return json::object{{"status", r.status}, {"identity_token", r.identity_token}};
  }
  static LoginResult decode(const json::value& v) {
    const auto& o = as_object(v, "login result");
    return LoginResult{str(o, "status"), str(o, "identity_token")};
  }
};

template <>
struct Codec<std::vector<std::string>> {
  static json::value encode(const std::vector<std::string>& list) {
    json::array a;
    for (const auto& s : list) a.emplace_back(s);
    return a;
  }
  static std::vector<std::string> decode(const json::value& v) { return strings_of(v, "list"); }
};

template <>
struct Codec<std::vector<int>> {
  static json::value encode(const std::vector<int>& list) {
    json::array a;
    for (int i : list) a.emplace_back(i);
    return a;
  }
  static std::vector<int> decode(const json::value& v) {
    std::vector<int> out;
    for (const auto& i : as_array(v, "integer list")) {
      if (!i.is_number()) throw ShapeError("integer list must hold numbers");
      out.push_back(static_cast<int>(i.to_number<int64_t>()));
    }
    return out;
  }
};

template <>
struct Codec<CreateSpec> {
  static json::value encode(const CreateSpec& s) {
    return json::object{
        {"bundle", s.bundle},
        {"rootfs_mounts", Codec<std::vector<Mount>>::encode(s.rootfs)},
        {"stdio", stdio_value(s.stdio)},
        {"log", json::object{{"path", s.log.path}, {"max_size", s.log.max_size}, {"max_files", s.log.max_files}}},
        {"init", s.init}};
  }
  static CreateSpec decode(const json::value& v) {
    const auto& o = as_object(v, "create spec");
    CreateSpec s;
    s.bundle = str(o, "bundle");
    if (const auto* m = o.if_contains("rootfs_mounts"); m != nullptr && !m->is_null()) {
      s.rootfs = Codec<std::vector<Mount>>::decode(*m);
    }
    s.stdio = stdio_of(o);
    if (const auto* l = o.if_contains("log"); l != nullptr && !l->is_null()) {
      const auto& lo = as_object(*l, "log");
      s.log.path = str(lo, "path");
      s.log.max_size = i64(lo, "max_size");
      s.log.max_files = static_cast<int>(i64(lo, "max_files"));
    }
    s.init = boolean(o, "init");
    return s;
  }
};

template <>
struct Codec<ExecSpec> {
  static json::value encode(const ExecSpec& s) {
    return json::object{{"process", parse_raw(s.process_json, "process")}, {"stdio", stdio_value(s.stdio)}};
  }
  static ExecSpec decode(const json::value& v) {
    const auto& o = as_object(v, "exec spec");
    return ExecSpec{raw(o, "process", "{}"), stdio_of(o)};
  }
};

template <>
struct Codec<AttachOptions> {
  static json::value encode(const AttachOptions& a) {
    return json::object{{"stdin", a.stdin}, {"stdout", a.stdout}, {"stderr", a.stderr}};
  }
  static AttachOptions decode(const json::value& v) {
    const auto& o = as_object(v, "attach options");
    return AttachOptions{boolean(o, "stdin"), boolean(o, "stdout"), boolean(o, "stderr")};
  }
};

template <>
struct Codec<TaskState> {
  static json::value encode(const TaskState& t) { return task_value(t); }
  static TaskState decode(const json::value& v) { return task_of(v); }
};

template <>
struct Codec<std::vector<TaskState>> {
  static json::value encode(const std::vector<TaskState>& list) {
    json::array a;
    for (const auto& t : list) a.push_back(task_value(t));
    return a;
  }
  static std::vector<TaskState> decode(const json::value& v) {
    std::vector<TaskState> out;
    for (const auto& t : as_array(v, "task list")) out.push_back(task_of(t));
    return out;
  }
};

template <>
struct Codec<Pid> {
  static json::value encode(const Pid& p) { return json::object{{"pid", p.pid}}; }
  static Pid decode(const json::value& v) {
    return Pid{static_cast<int>(i64(as_object(v, "pid answer"), "pid"))};
  }
};

}  // namespace

template <class T>
std::string to_json(const T& value) {
  try {
    return json::serialize(Codec<T>::encode(value));
  } catch (const std::exception&) {
    // Only an embedded raw document (options, OCI spec) can fail; send it as null.
    return "null";
  }
}

template <class T>
Result<T> from_json(std::string_view text) {
  return decode_with<T>(text, [](const json::value& v) { return Codec<T>::decode(v); });
}

#define BERTH_CODEC_INSTANTIATE(T)                 \
  template std::string to_json<T>(const T& value); \
  template Result<T> from_json<T>(std::string_view json);

BERTH_CODEC_INSTANTIATE(Labels)
BERTH_CODEC_INSTANTIATE(DriverInfo)
BERTH_CODEC_INSTANTIATE(std::vector<Mount>)
BERTH_CODEC_INSTANTIATE(SnapshotInfo)
BERTH_CODEC_INSTANTIATE(std::vector<SnapshotInfo>)
BERTH_CODEC_INSTANTIATE(Usage)
BERTH_CODEC_INSTANTIATE(WalkFilter)
BERTH_CODEC_INSTANTIATE(NetworkSpec)
BERTH_CODEC_INSTANTIATE(EndpointSpec)
BERTH_CODEC_INSTANTIATE(EndpointResult)
BERTH_CODEC_INSTANTIATE(JoinSpec)
BERTH_CODEC_INSTANTIATE(JoinResult)
BERTH_CODEC_INSTANTIATE(std::vector<PortMapping>)
BERTH_CODEC_INSTANTIATE(RepoRef)
BERTH_CODEC_INSTANTIATE(Descriptor)
BERTH_CODEC_INSTANTIATE(Credentials)
BERTH_CODEC_INSTANTIATE(LoginResult)
BERTH_CODEC_INSTANTIATE(SearchQuery)
BERTH_CODEC_INSTANTIATE(std::vector<SearchResult>)
BERTH_CODEC_INSTANTIATE(std::vector<std::string>)
BERTH_CODEC_INSTANTIATE(std::vector<int>)
BERTH_CODEC_INSTANTIATE(CreateSpec)
BERTH_CODEC_INSTANTIATE(ExecSpec)
BERTH_CODEC_INSTANTIATE(AttachOptions)
BERTH_CODEC_INSTANTIATE(TaskState)
BERTH_CODEC_INSTANTIATE(std::vector<TaskState>)
BERTH_CODEC_INSTANTIATE(Pid)

#undef BERTH_CODEC_INSTANTIATE

}  // namespace codec
}  // namespace berth::sdk
