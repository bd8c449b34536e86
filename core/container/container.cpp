#include "core/container/container.hpp"

#include <boost/json.hpp>
#include <filesystem>

#include "core/common/fs.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

using json_fields::str;
using json_fields::num;
using json_fields::flag;
using json_fields::obj;

State state_of(std::string_view s) {
  if (s == "running") return State::kRunning;
  if (s == "paused") return State::kPaused;
  if (s == "restarting") return State::kRestarting;
  if (s == "removing") return State::kRemoving;
  if (s == "exited") return State::kExited;
  if (s == "dead") return State::kDead;
  return State::kCreated;
}

json::object mount_json(const MountPoint& m) {
  return json::object{{"type", m.type},           {"name", m.name},
                      {"source", m.source},       {"destination", m.destination},
                      {"driver", m.driver},       {"mode", m.mode},
                      {"rw", m.rw},               {"propagation", m.propagation},
                      {"tmpfs_options", m.tmpfs_options}, {"anonymous", m.anonymous},
                      {"copy_image_data", m.copy_image_data}};
}

MountPoint mount_of(const json::object& o) {
  MountPoint m;
  m.type = str(o, "type");
  m.name = str(o, "name");
  m.source = str(o, "source");
  m.destination = str(o, "destination");
  m.driver = str(o, "driver");
  m.mode = str(o, "mode");
  m.rw = flag(o, "rw");
  m.propagation = str(o, "propagation");
  m.tmpfs_options = str(o, "tmpfs_options");
  m.anonymous = flag(o, "anonymous");
  m.copy_image_data = flag(o, "copy_image_data");
  return m;
}

}  // namespace

bool ContainerRecord::tty() const { return flag(config, "Tty"); }
bool ContainerRecord::open_stdin() const { return flag(config, "OpenStdin"); }
bool ContainerRecord::stdin_once() const { return flag(config, "StdinOnce"); }
bool ContainerRecord::auto_remove() const { return flag(host_config, "AutoRemove"); }

std::string ContainerRecord::restart_policy() const {
  auto policy = obj(host_config, "RestartPolicy");
  std::string name = str(policy, "Name");
  return name.empty() ? "no" : name;
}

int ContainerRecord::max_retries() const {
  return static_cast<int>(num(obj(host_config, "RestartPolicy"), "MaximumRetryCount"));
}

std::map<std::string, std::string> ContainerRecord::labels() const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : obj(config, "Labels")) {
    if (v.is_string()) out[std::string(k)] = std::string(v.get_string());
  }
  return out;
}

std::string ContainerRecord::stop_signal() const { return str(config, "StopSignal"); }

std::optional<int> ContainerRecord::stop_timeout() const {
  const auto* v = config.if_contains("StopTimeout");
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return static_cast<int>(v->to_number<int64_t>());
}

json::object to_json(const ContainerRecord& c) {
  json::array args;
  for (const auto& a : c.args) args.emplace_back(a);
  json::array mounts;
  for (const auto& m : c.mounts) mounts.push_back(mount_json(m));
  const auto& s = c.state;
  json::object state{{"status", state_name(s.status)},
                     {"pid", s.pid},
                     {"exit_code", s.exit_code},
                     {"error", s.error},
                     {"oom_killed", s.oom_killed},
                     {"started_at", s.started_at},
                     {"finished_at", s.finished_at},
                     {"restart_count", s.restart_count},
                     {"manually_stopped", s.manually_stopped},
                     {"has_been_started", s.has_been_started}};
  if (s.health) state["health"] = health_record_json(*s.health);
  return json::object{
      {"id", c.id},
      {"name", c.name},
      {"created", c.created},
      {"image", c.image},
      {"image_id", c.image_id},
      {"path", c.path},
      {"args", std::move(args)},
      {"config", c.config},
      {"host_config", c.host_config},
      {"networking", c.networking},
      {"mounts", std::move(mounts)},
      {"state", std::move(state)},
      {"storage_key", c.storage_key},
      {"log_path", c.log_path},
      {"hostname_path", c.hostname_path},
      {"hosts_path", c.hosts_path},
      {"resolv_conf_path", c.resolv_conf_path}};
}

Result<ContainerRecord> record_from_json(const json::object& o) {
  ContainerRecord c;
  c.id = str(o, "id");
  if (c.id.size() != 64) return make_error(ErrorCode::kInvalidArgument, "container record without id");
  c.name = str(o, "name");
  c.created = num(o, "created");
  c.image = str(o, "image");
  c.image_id = str(o, "image_id");
  c.path = str(o, "path");
  if (const auto* a = o.if_contains("args"); a != nullptr && a->is_array()) {
    for (const auto& v : a->get_array()) {
      if (v.is_string()) c.args.emplace_back(v.get_string());
    }
  }
  c.config = obj(o, "config");
  c.host_config = obj(o, "host_config");
  c.networking = obj(o, "networking");
  if (const auto* m = o.if_contains("mounts"); m != nullptr && m->is_array()) {
    for (const auto& v : m->get_array()) {
      if (v.is_object()) c.mounts.push_back(mount_of(v.get_object()));
    }
  }
  auto s = obj(o, "state");
  c.state.status = state_of(str(s, "status"));
  c.state.pid = static_cast<int>(num(s, "pid"));
  c.state.exit_code = static_cast<int>(num(s, "exit_code"));
  c.state.error = str(s, "error");
  c.state.oom_killed = flag(s, "oom_killed");
  c.state.started_at = num(s, "started_at");
  c.state.finished_at = num(s, "finished_at");
  c.state.restart_count = static_cast<int>(num(s, "restart_count"));
  c.state.manually_stopped = flag(s, "manually_stopped");
  c.state.has_been_started = flag(s, "has_been_started");
  if (const auto* h = s.if_contains("health"); h != nullptr) c.state.health = health_from_record_json(*h);
  c.storage_key = str(o, "storage_key");
  c.log_path = str(o, "log_path");
  c.hostname_path = str(o, "hostname_path");
  c.hosts_path = str(o, "hosts_path");
  c.resolv_conf_path = str(o, "resolv_conf_path");
  return c;
}

Status save_record(const std::string& containers_dir, const ContainerRecord& c) {
  auto dir = std::filesystem::path(containers_dir) / c.id;
  BERTH_TRY_STATUS(fs::ensure_dir(dir, 0710));
  // Atomic, not fsynced: state changes many times per run and the isolation backend keeps the
  // truth about tasks, which a restart reconciles against.
  auto written = fs::atomic_write((dir / "config.v2.json").string(), json::serialize(to_json(c)), 0600,
                                  fs::Durability::kVolatile);
  if (!written) return written.error().wrap("save container " + c.short_id());
  return {};
}

Result<std::vector<ContainerRecord>> load_records(const std::string& containers_dir) {
  std::vector<ContainerRecord> out;
  std::error_code ec;
  auto log = logging::get("container");
  for (const auto& entry : std::filesystem::directory_iterator(containers_dir, ec)) {
    auto path = entry.path() / "config.v2.json";
    std::error_code exists_ec;
    if (entry.is_directory(exists_ec) && !std::filesystem::exists(path, exists_ec) && !exists_ec) {
      // A create killed before its record was written: nothing refers to what it made (its
      // snapshot goes with the data-root reconciliation).
      log->warn("removing {}: a container create was interrupted there", entry.path().string());
      (void)fs::remove_all(entry.path().string());
      continue;
    }
    auto text = fs::read_file(path);
    if (!text) continue;
    json::error_code jec;
    auto v = json::parse(*text, jec);
    if (jec || !v.is_object()) {
      log->warn("skipping corrupt container record {}", path.string());
      continue;
    }
    auto r = record_from_json(v.get_object());
    if (!r) {
      log->warn("skipping container record {}: {}", path.string(), r.error().message);
      continue;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace berth::core::container
