#include "core/api/body_schema.hpp"

#include <boost/json.hpp>
#include <cstdint>
#include <limits>

namespace json = boost::json;

namespace berth::core::api {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view go_type(BodyKind k, const BodySchema* s) {
  switch (k) {
    case BodyKind::kString: return "string";
    case BodyKind::kBool: return "bool";
    case BodyKind::kInt64: return "int64";
    case BodyKind::kInt32: return "int";
    case BodyKind::kUint16: return "uint16";
    case BodyKind::kUint32: return "uint32";
    case BodyKind::kUint64: return "uint64";
    case BodyKind::kStrings: return "[]string";
    case BodyKind::kStrSlice: return "strslice.StrSlice";
    case BodyKind::kStringMap: return "map[string]string";
    case BodyKind::kEmptyMap: return "map[string]struct {}";
    case BodyKind::kObject: return s != nullptr ? s->go_name : "struct";
    case BodyKind::kObjects: return "[]struct";
    case BodyKind::kObjectMap: return "map[string]struct";
    case BodyKind::kAny: return "any";
  }
  return "any";
}

// How Go names the JSON value in its message: "string", "number 1.5", "bool", "array", "object".
std::string json_type(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "string";
    case json::kind::bool_: return "bool";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
    case json::kind::null: return "null";
    case json::kind::double_: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v.get_double());
      return std::string("number ") + buf;
    }
    default: return "number " + json::serialize(v);
  }
}

Error mismatch(const json::value& v, const std::string& path, BodyKind k, const BodySchema* s) {
  return make_error(ErrorCode::kInvalidArgument,
                    "json: cannot unmarshal " + json_type(v) + " into Go struct field " + path +
                        " of type " + std::string(go_type(k, s)));
}

bool integer_in(const json::value& v, int64_t lo, uint64_t hi) {
  if (v.is_int64()) {
    int64_t n = v.get_int64();
    return n >= lo && (n < 0 || static_cast<uint64_t>(n) <= hi);
  }
  if (v.is_uint64()) return lo <= 0 && v.get_uint64() <= hi;
  return false;  // doubles ("1.5", "1e300", even "5.0") are not integer literals
}

Status check(json::value& v, const std::string& path, BodyKind kind, const BodySchema* schema);

Status check_object(json::object& o, const std::string& path, const BodySchema& schema) {
  // Exact matches first, then any-case ones (Go prefers an exact match).
  std::vector<std::pair<std::string, std::string>> renames;
  for (auto& [key, _] : o) {
    bool exact = false;
    const BodyField* found = nullptr;
    for (const auto& f : schema.fields) {
      if (f.name == key) {
        exact = true;
        break;
      }
      if (found == nullptr && iequals(f.name, key)) found = &f;
    }
    if (!exact && found != nullptr && !o.contains(found->name)) {
      renames.emplace_back(std::string(key), std::string(found->name));
    }
  }
  for (auto& [from, to] : renames) {
    json::value moved = std::move(o[from]);
    o.erase(from);
    o[to] = std::move(moved);
  }
  for (const auto& f : schema.fields) {
    auto* v = o.if_contains(f.name);
    if (v == nullptr) continue;
    BERTH_TRY_STATUS(check(*v, (path.empty() ? "" : path + ".") + std::string(f.name), f.kind, f.schema));
  }
  return {};
}

Status check(json::value& v, const std::string& path, BodyKind kind, const BodySchema* schema) {
  if (v.is_null() || kind == BodyKind::kAny) return {};
  switch (kind) {
    case BodyKind::kString:
      if (!v.is_string()) return mismatch(v, path, kind, schema);
      return {};
    case BodyKind::kBool:
      if (!v.is_bool()) return mismatch(v, path, kind, schema);
      return {};
    case BodyKind::kInt64:
      if (!integer_in(v, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())) {
        return mismatch(v, path, kind, schema);
      }
      return {};
    case BodyKind::kInt32:
      if (!integer_in(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max())) {
        return mismatch(v, path, kind, schema);
      }
      return {};
    case BodyKind::kUint16:
      if (!integer_in(v, 0, std::numeric_limits<uint16_t>::max())) return mismatch(v, path, kind, schema);
      return {};
    case BodyKind::kUint32:
      if (!integer_in(v, 0, std::numeric_limits<uint32_t>::max())) return mismatch(v, path, kind, schema);
      return {};
    case BodyKind::kUint64:
      if (!integer_in(v, 0, std::numeric_limits<uint64_t>::max())) return mismatch(v, path, kind, schema);
      return {};
    case BodyKind::kStrSlice:
      if (v.is_string()) return {};
      [[fallthrough]];
    case BodyKind::kStrings:
      if (!v.is_array()) return mismatch(v, path, kind, schema);
      for (const auto& e : v.get_array()) {
        if (!e.is_string()) return mismatch(e, path, BodyKind::kString, nullptr);
      }
      return {};
    case BodyKind::kStringMap:
      if (!v.is_object()) return mismatch(v, path, kind, schema);
      for (const auto& [k, e] : v.get_object()) {
        if (!e.is_string() && !e.is_null()) {
          return mismatch(e, path + "[" + std::string(k) + "]", BodyKind::kString, nullptr);
        }
      }
      return {};
    case BodyKind::kEmptyMap:
      if (!v.is_object()) return mismatch(v, path, kind, schema);
      return {};
    case BodyKind::kObject:
      if (!v.is_object()) return mismatch(v, path, kind, schema);
      return check_object(v.get_object(), path, *schema);
    case BodyKind::kObjects:
      if (!v.is_array()) return mismatch(v, path, kind, schema);
      for (auto& e : v.get_array()) BERTH_TRY_STATUS(check(e, path, BodyKind::kObject, schema));
      return {};
    case BodyKind::kObjectMap:
      if (!v.is_object()) return mismatch(v, path, kind, schema);
      for (auto& [k, e] : v.get_object()) {
        BERTH_TRY_STATUS(check(e, path + "[" + std::string(k) + "]", BodyKind::kObject, schema));
      }
      return {};
    case BodyKind::kAny:
      return {};
  }
  return {};
}

using K = BodyKind;

const BodySchema& health_config() {
  static const BodySchema s{"container.HealthConfig",
                            {{"Test", K::kStrings}, {"Interval", K::kInt64}, {"Timeout", K::kInt64},
                             {"StartPeriod", K::kInt64}, {"StartInterval", K::kInt64},
                             {"Retries", K::kInt32}}};
  return s;
}

const BodySchema& throttle_device() {
  static const BodySchema s{"blkiodev.ThrottleDevice", {{"Path", K::kString}, {"Rate", K::kUint64}}};
  return s;
}

const BodySchema& weight_device() {
  static const BodySchema s{"blkiodev.WeightDevice", {{"Path", K::kString}, {"Weight", K::kUint16}}};
  return s;
}

const BodySchema& device_mapping() {
  static const BodySchema s{"container.DeviceMapping",
                            {{"PathOnHost", K::kString}, {"PathInContainer", K::kString},
                             {"CgroupPermissions", K::kString}}};
  return s;
}

const BodySchema& ulimit() {
  static const BodySchema s{"units.Ulimit",
                            {{"Name", K::kString}, {"Hard", K::kInt64}, {"Soft", K::kInt64}}};
  return s;
}

const BodySchema& mount_schema() {
  static const BodySchema bind{"mount.BindOptions",
                               {{"Propagation", K::kString}, {"NonRecursive", K::kBool},
                                {"CreateMountpoint", K::kBool}, {"ReadOnlyNonRecursive", K::kBool},
                                {"ReadOnlyForceRecursive", K::kBool}}};
  static const BodySchema driver{"mount.Driver", {{"Name", K::kString}, {"Options", K::kStringMap}}};
  static const BodySchema volume{"mount.VolumeOptions",
                                 {{"NoCopy", K::kBool}, {"Labels", K::kStringMap},
                                  {"Subpath", K::kString}, {"DriverConfig", K::kObject, &driver}}};
  static const BodySchema tmpfs{"mount.TmpfsOptions",
                                {{"SizeBytes", K::kInt64}, {"Mode", K::kUint32}, {"Options", K::kAny}}};
  static const BodySchema s{"mount.Mount",
                            {{"Type", K::kString}, {"Source", K::kString}, {"Target", K::kString},
                             {"ReadOnly", K::kBool}, {"Consistency", K::kString},
                             {"BindOptions", K::kObject, &bind},
                             {"VolumeOptions", K::kObject, &volume},
                             {"TmpfsOptions", K::kObject, &tmpfs}}};
  return s;
}

std::vector<BodyField> resources_fields() {
  return {{"CpuShares", K::kInt64},           {"Memory", K::kInt64},
          {"NanoCpus", K::kInt64},            {"CgroupParent", K::kString},
          {"BlkioWeight", K::kUint16},        {"BlkioWeightDevice", K::kObjects, &weight_device()},
          {"BlkioDeviceReadBps", K::kObjects, &throttle_device()},
          {"BlkioDeviceWriteBps", K::kObjects, &throttle_device()},
          {"BlkioDeviceReadIOps", K::kObjects, &throttle_device()},
          {"BlkioDeviceWriteIOps", K::kObjects, &throttle_device()},
          {"CpuPeriod", K::kInt64},           {"CpuQuota", K::kInt64},
          {"CpuRealtimePeriod", K::kInt64},   {"CpuRealtimeRuntime", K::kInt64},
          {"CpusetCpus", K::kString},         {"CpusetMems", K::kString},
          {"Devices", K::kObjects, &device_mapping()},
          {"DeviceCgroupRules", K::kStrings}, {"DeviceRequests", K::kAny},
          {"KernelMemory", K::kInt64},        {"KernelMemoryTCP", K::kInt64},
          {"MemoryReservation", K::kInt64},   {"MemorySwap", K::kInt64},
          {"MemorySwappiness", K::kInt64},    {"OomKillDisable", K::kBool},
          {"PidsLimit", K::kInt64},           {"Ulimits", K::kObjects, &ulimit()},
          {"CpuCount", K::kInt64},            {"CpuPercent", K::kInt64},
          {"IOMaximumIOps", K::kUint64},      {"IOMaximumBandwidth", K::kUint64}};
}

const BodySchema& log_config() {
  static const BodySchema s{"container.LogConfig", {{"Type", K::kString}, {"Config", K::kStringMap}}};
  return s;
}

const BodySchema& restart_policy() {
  static const BodySchema s{"container.RestartPolicy",
                            {{"Name", K::kString}, {"MaximumRetryCount", K::kInt32}}};
  return s;
}

const BodySchema& endpoint_settings() {
  static const BodySchema ipam{"network.EndpointIPAMConfig",
                               {{"IPv4Address", K::kString}, {"IPv6Address", K::kString},
                                {"LinkLocalIPs", K::kStrings}}};
  static const BodySchema s{"network.EndpointSettings",
                            {{"IPAMConfig", K::kObject, &ipam}, {"Links", K::kStrings},
                             {"Aliases", K::kStrings}, {"MacAddress", K::kString},
                             {"DriverOpts", K::kStringMap}, {"NetworkID", K::kString},
                             {"EndpointID", K::kString}, {"Gateway", K::kString},
                             {"IPAddress", K::kString}, {"IPPrefixLen", K::kInt32},
                             {"IPv6Gateway", K::kString}, {"GlobalIPv6Address", K::kString},
                             {"GlobalIPv6PrefixLen", K::kInt32}, {"DNSNames", K::kStrings}}};
  return s;
}

const BodySchema& networking_config() {
  static const BodySchema s{"network.NetworkingConfig",
                            {{"EndpointsConfig", K::kObjectMap, &endpoint_settings()}}};
  return s;
}

}  // namespace

Status normalize_body(json::value& value, const BodySchema& schema) {
  if (value.is_null()) return {};
  if (!value.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "json: cannot unmarshal " + json_type(value) +
                                                       " into Go value of type " +
                                                       std::string(schema.go_name));
  }
  // Paths are named from the body's top ("HostConfig.Memory"), as clients write them.
  return check_object(value.get_object(), "", schema);
}

const BodySchema& host_config_schema() {
  static const BodySchema s = [] {
    BodySchema h{"HostConfig",
                 {{"Binds", K::kStrings},
                  {"ContainerIDFile", K::kString},
                  {"LogConfig", K::kObject, &log_config()},
                  {"NetworkMode", K::kString},
                  {"PortBindings", K::kAny},  // map[string][]PortBinding: checked by its reader
                  {"RestartPolicy", K::kObject, &restart_policy()},
                  {"AutoRemove", K::kBool},
                  {"VolumeDriver", K::kString},
                  {"VolumesFrom", K::kStrings},
                  {"ConsoleSize", K::kAny},
                  {"Annotations", K::kStringMap},
                  {"CapAdd", K::kStrSlice},
                  {"CapDrop", K::kStrSlice},
                  {"CgroupnsMode", K::kString},
                  {"Dns", K::kStrings},
                  {"DnsOptions", K::kStrings},
                  {"DnsSearch", K::kStrings},
                  {"ExtraHosts", K::kStrings},
                  {"GroupAdd", K::kStrings},
                  {"IpcMode", K::kString},
                  {"Cgroup", K::kString},
                  {"Links", K::kStrings},
                  {"OomScoreAdj", K::kInt32},
                  {"PidMode", K::kString},
                  {"Privileged", K::kBool},
                  {"PublishAllPorts", K::kBool},
                  {"ReadonlyRootfs", K::kBool},
                  {"SecurityOpt", K::kStrings},
                  {"StorageOpt", K::kStringMap},
                  {"Tmpfs", K::kStringMap},
                  {"UTSMode", K::kString},
                  {"UsernsMode", K::kString},
                  {"ShmSize", K::kInt64},
                  {"Sysctls", K::kStringMap},
                  {"Runtime", K::kString},
                  {"Isolation", K::kString},
                  {"Mounts", K::kObjects, &mount_schema()},
                  {"MaskedPaths", K::kStrings},
                  {"ReadonlyPaths", K::kStrings},
                  {"Init", K::kBool}}};
    for (auto& f : resources_fields()) h.fields.push_back(f);
    return h;
  }();
  return s;
}

const BodySchema& container_create_schema() {
  static const BodySchema s{"container.Config",
                            {{"Hostname", K::kString},
                             {"Domainname", K::kString},
                             {"User", K::kString},
                             {"AttachStdin", K::kBool},
                             {"AttachStdout", K::kBool},
                             {"AttachStderr", K::kBool},
                             {"ExposedPorts", K::kEmptyMap},
                             {"Tty", K::kBool},
                             {"OpenStdin", K::kBool},
                             {"StdinOnce", K::kBool},
                             {"Env", K::kStrings},
                             {"Cmd", K::kStrSlice},
                             {"Healthcheck", K::kObject, &health_config()},
                             {"ArgsEscaped", K::kBool},
                             {"Image", K::kString},
                             {"Volumes", K::kEmptyMap},
                             {"WorkingDir", K::kString},
                             {"Entrypoint", K::kStrSlice},
                             {"NetworkDisabled", K::kBool},
                             {"MacAddress", K::kString},
                             {"OnBuild", K::kStrings},
                             {"Labels", K::kStringMap},
                             {"StopSignal", K::kString},
                             {"StopTimeout", K::kInt32},
                             {"Shell", K::kStrSlice},
                             {"HostConfig", K::kObject, &host_config_schema()},
                             {"NetworkingConfig", K::kObject, &networking_config()}}};
  return s;
}

const BodySchema& exec_create_schema() {
  static const BodySchema s{"container.ExecOptions",
                            {{"User", K::kString},
                             {"Privileged", K::kBool},
                             {"Tty", K::kBool},
                             {"ConsoleSize", K::kAny},
                             {"AttachStdin", K::kBool},
                             {"AttachStderr", K::kBool},
                             {"AttachStdout", K::kBool},
                             {"DetachKeys", K::kString},
                             {"Env", K::kStrings},
                             {"WorkingDir", K::kString},
                             {"Cmd", K::kStrSlice}}};
  return s;
}

const BodySchema& exec_start_schema() {
  static const BodySchema s{"container.ExecStartOptions",
                            {{"Detach", K::kBool}, {"Tty", K::kBool}, {"ConsoleSize", K::kAny}}};
  return s;
}

}  // namespace berth::core::api
