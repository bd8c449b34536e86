// Docker's JSON shapes of containers: inspect and list (with its filters), built from the
// manager's records. The manager keeps the object model; what clients see is shaped here.
#include "core/api/views/container_view.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "core/common/json_fields.hpp"
#include "core/common/json_text.hpp"
#include "core/common/label_filter.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"
#include "core/container/status_text.hpp"

namespace json = boost::json;

namespace berth::core::api::views {

using container::Container;
using container::ContainerManager;
using container::ContainerRecord;
using container::ContainerState;
using container::MountPoint;
using container::State;
using container::is_running;
using container::state_name;
using container::status_text;
using json_fields::str;

std::string network_id(std::string_view name) {
  return Sha256::of("berth-network-" + std::string(name)).substr(7);
}

namespace {

std::string network_name(const json::object& hc) {
  std::string mode = str(hc, "NetworkMode");
  if (mode == "host") return "host";
  if (mode.rfind("container:", 0) == 0) return "";
  return "none";  // "default" too: berthd has no bridge network yet
}

json::object endpoint_json(const std::string& name) {
  return json::object{{"IPAMConfig", nullptr},   {"Links", nullptr},
                      {"Aliases", nullptr},      {"NetworkID", network_id(name)},
                      {"EndpointID", ""},        {"Gateway", ""},
                      {"IPAddress", ""},         {"IPPrefixLen", 0},
                      {"IPv6Gateway", ""},       {"GlobalIPv6Address", ""},
                      {"GlobalIPv6PrefixLen", 0}, {"MacAddress", ""},
                      {"DriverOpts", nullptr}};
}

json::array mounts_json(const ContainerRecord& c) {
  json::array out;
  for (const auto& m : c.mounts) {
    json::object o{{"Type", m.type}};
    if (m.type == "volume") o["Name"] = m.name;
    o["Source"] = m.source;
    o["Destination"] = m.destination;
    if (m.type == "volume") o["Driver"] = m.driver.empty() ? "local" : m.driver;
    o["Mode"] = m.mode.empty() && m.type == "volume" ? "z" : m.mode;
    o["RW"] = m.rw;
    o["Propagation"] = m.propagation;
    out.push_back(std::move(o));
  }
  return out;
}

json::object ports_json(const ContainerRecord& c) {
  json::object ports;
  if (const auto* e = c.config.if_contains("ExposedPorts"); e != nullptr && e->is_object()) {
    for (const auto& [port, _] : e->get_object()) ports[port] = nullptr;
  }
  return ports;
}

}  // namespace

json::object inspect_container(sdk::Context& ctx, const ContainerManager& m, const Container& c, bool size) {
  const auto& r = c.record;
  const auto& s = r.state;
  json::array args;
  for (const auto& a : r.args) args.emplace_back(a);
  json::value exec_ids = nullptr;
  if (!c.execs.empty()) {
    json::array ids;
    for (const auto& [id, _] : c.execs) ids.emplace_back(id);
    exec_ids = std::move(ids);
  }
  std::string net = network_name(r.host_config);
  json::object networks;
  if (!net.empty()) networks[net] = endpoint_json(net);
  json::object state{{"Status", state_name(s.status)},
                     {"Running", is_running(s.status)},
                     {"Paused", s.status == State::kPaused},
                     {"Restarting", s.status == State::kRestarting},
                     {"OOMKilled", s.oom_killed},
                     {"Dead", s.status == State::kDead},
                     {"Pid", s.status == State::kRunning || s.status == State::kPaused ? s.pid : 0},
                     {"ExitCode", s.exit_code},
                     {"Error", s.error},
                     {"StartedAt", rfc3339_nano(s.started_at)},
                     {"FinishedAt", rfc3339_nano(s.finished_at)}};
  // Present once a container with a healthcheck has started, as dockerd's (omitted when nil).
  if (s.health) state["Health"] = container::health_json(*s.health);
  json::object out{
      {"Id", r.id},
      {"Created", rfc3339_nano(r.created)},
      {"Path", r.path},
      {"Args", std::move(args)},
      {"State", std::move(state)},
      {"Image", r.image_id},
      {"ResolvConfPath", r.resolv_conf_path},
      {"HostnamePath", r.hostname_path},
      {"HostsPath", r.hosts_path},
      {"LogPath", r.log_path},
      {"Name", r.name},
      {"RestartCount", s.restart_count},
      {"Driver", m.images().storage_name()},
      {"Platform", "linux"},
      {"MountLabel", ""},
      {"ProcessLabel", ""},
      {"AppArmorProfile", ""},
      {"ExecIDs", std::move(exec_ids)},
      {"HostConfig", r.host_config},
      {"GraphDriver", json::object{{"Data", nullptr}, {"Name", m.images().storage_name()}}}};
  if (size) {
    auto rw = m.size_rw(ctx, c);
    out["SizeRw"] = rw ? *rw : 0;
    auto img = m.images().resolve(r.image_id);
    out["SizeRootFs"] = (rw ? *rw : 0) + (img ? img->record.size : 0);
  }
  out["Mounts"] = mounts_json(r);
  out["Config"] = r.config;
  out["NetworkSettings"] = json::object{{"Bridge", ""},
                                        {"SandboxID", ""},
                                        {"HairpinMode", false},
                                        {"LinkLocalIPv6Address", ""},
                                        {"LinkLocalIPv6PrefixLen", 0},
                                        {"Ports", ports_json(r)},
                                        {"SandboxKey", ""},
                                        {"SecondaryIPAddresses", nullptr},
                                        {"SecondaryIPv6Addresses", nullptr},
                                        {"EndpointID", ""},
                                        {"Gateway", ""},
                                        {"GlobalIPv6Address", ""},
                                        {"GlobalIPv6PrefixLen", 0},
                                        {"IPAddress", ""},
                                        {"IPPrefixLen", 0},
                                        {"IPv6Gateway", ""},
                                        {"MacAddress", ""},
                                        {"Networks", std::move(networks)}};
  if (auto* hooks = m.network_hooks()) hooks->fill_settings(r, out["NetworkSettings"].as_object());
  return out;
}

namespace {

// The list's entry of a container: its immutable parts serialized once, with holes for what
// changes (the name, the state and its status text), and the fields the filters read. Kept in
// Container::list_view: none of it changes after create.
struct ListEntry {
  std::string id;
  std::string image_id;
  int64_t created = 0;
  std::map<std::string, std::string> labels;
  std::vector<MountPoint> mounts;
  std::string network;
  json::object exposed;
  std::string json_to_name;    // {"Id":...,"Names":[
  std::string json_to_state;   // ],"Image":...,"State":
  std::string json_after;      // ,"HostConfig":...}
};

std::shared_ptr<const ListEntry> make_list_entry(const ContainerRecord& r) {
  auto e = std::make_shared<ListEntry>();
  e->id = r.id;
  e->image_id = r.image_id;
  e->created = r.created;
  e->labels = r.labels();
  e->mounts = r.mounts;
  e->network = network_name(r.host_config);
  e->exposed = ports_json(r);
  // dockerd's list shape: arguments with a space are put in single quotes (nothing else is
  // escaped), so `ps` shows "sh -c 'echo hi'".
  std::string command = r.path;
  for (const auto& a : r.args) {
    command += a.find(' ') == std::string::npos ? " " + a : " '" + a + "'";
  }
  json::object networks;
  if (!e->network.empty()) networks[e->network] = endpoint_json(e->network);
  json::object lab;
  for (const auto& [k, v] : e->labels) lab[k] = v;
  constexpr std::string_view kName = "\x01name\x01", kState = "\x01state\x01";
  json::object summary{{"Id", r.id},
                       {"Names", json::array{json::string(kName)}},
                       {"Image", r.image},
                       {"ImageID", r.image_id},
                       {"Command", command},
                       {"Created", r.created / 1000000000},
                       {"Ports", json::array()},
                       {"Labels", std::move(lab)},
                       {"State", json::string(kState)},
                       {"HostConfig", json::object{{"NetworkMode", str(r.host_config, "NetworkMode")}}},
                       {"NetworkSettings", json::object{{"Networks", std::move(networks)}}},
                       {"Mounts", mounts_json(r)}};
  std::string text = json_text::serialize(summary);
  std::string name_marker = json_text::serialize(json::string(kName));
  std::string state_marker = json_text::serialize(json::string(kState));
  size_t n = text.find(name_marker);
  size_t st = text.find(state_marker);
  e->json_to_name = text.substr(0, n);
  e->json_to_state = text.substr(n + name_marker.size(), st - n - name_marker.size());
  e->json_after = text.substr(st + state_marker.size());
  return e;
}

}  // namespace

Result<std::string> list_containers(sdk::Context& ctx, const ContainerManager& m, const Filters& filters, bool all, int limit,
                                    bool size) {
  static const std::set<std::string> kKeys = {"ancestor", "before", "expose", "exited", "health",
                                              "id", "isolation", "is-task", "label", "name",
                                              "network", "publish", "since", "status", "volume"};
  for (const auto& [k, _] : filters) {
    if (!kKeys.contains(k)) return make_error(ErrorCode::kInvalidArgument, "invalid filter '" + k + "'");
  }
  if (limit > 0) all = true;
  auto window = created_window(filters, [&](const std::string& ref) -> Result<int64_t> {
    auto c = m.find(ref);
    if (!c) return c.error();
    std::lock_guard lock((*c)->mutex);
    return (*c)->record.created;
  });
  if (!window) return window.error();
  std::set<std::string> ancestors;
  if (auto it = filters.find("ancestor"); it != filters.end()) {
    for (const auto& a : it->second) {
      if (auto img = m.images().resolve(a)) ancestors.insert(img->record.id);
    }
    if (ancestors.empty() && !it->second.empty()) return std::string("[]");
  }
  static const std::set<std::string> kStatuses = {"created", "restarting", "running", "removing",
                                                  "paused", "exited", "dead"};
  if (auto it = filters.find("health"); it != filters.end()) {
    for (const auto& h : it->second) {
      if (h != "none" && h != "starting" && h != "healthy" && h != "unhealthy") {
        // dockerd 20.10's wording (API 1.41); later versions say "invalid filter 'health=x'".
        return make_error(ErrorCode::kInvalidArgument, "Unrecognised filter value for health: " + h);
      }
    }
  }
  if (auto it = filters.find("status"); it != filters.end()) {
    for (const auto& s : it->second) {
      if (!kStatuses.contains(s)) return make_error(ErrorCode::kInvalidArgument, "Invalid filter 'status=" + s + "'");
    }
  }
  struct Row {
    int64_t created;
    std::shared_ptr<const ListEntry> entry;
    std::string name;
    ContainerState state;
    const Container* container;
  };
  std::vector<Row> rows;
  int64_t now = now_unix_nano();
  auto matches = [&](const char* key, auto&& test) {
    auto it = filters.find(key);
    if (it == filters.end() || it->second.empty()) return true;
    return std::any_of(it->second.begin(), it->second.end(), test);
  };
  bool listed_status = filters.contains("status");
  auto containers = m.all();
  rows.reserve(containers.size());
  for (const auto& c : containers) {
    Row row;
    {
      // Only what changes is copied under the lock; the rest was serialized once.
      std::lock_guard lock(c->mutex);
      if (!c->list_view) c->list_view = make_list_entry(c->record);
      row.entry = std::static_pointer_cast<const ListEntry>(c->list_view);
      row.name = c->record.name;
      // What the status text and the filters read, not the whole state (the health log).
      const auto& st = c->record.state;
      row.state.status = st.status;
      row.state.exit_code = st.exit_code;
      row.state.started_at = st.started_at;
      row.state.finished_at = st.finished_at;
      if (st.health) {
        row.state.health = container::HealthState{st.health->status, st.health->failing_streak, {}};
      }
    }
    const ListEntry& e = *row.entry;
    row.created = e.created;
    row.container = c.get();
    auto st = row.state.status;
    if (!all && !is_running(st) && !listed_status) continue;
    if (!matches("id", [&](const std::string& v) { return e.id.rfind(v, 0) == 0; })) continue;
    std::string_view bare = std::string_view(row.name).substr(row.name.rfind('/') == std::string::npos ? 0 : row.name.rfind('/') + 1);
    if (!matches("name", [&](const std::string& v) {
          return bare.find(v.front() == '/' ? v.substr(1) : v) != std::string::npos;
        })) {
      continue;
    }
    if (!matches("status", [&](const std::string& v) { return v == state_name(st); })) continue;
    if (!matches("exited", [&](const std::string& v) {
          return st == State::kExited && v == std::to_string(row.state.exit_code);
        })) {
      continue;
    }
    // Every label filter must hold (Docker ANDs labels).
    if (auto it = filters.find("label"); it != filters.end() && !labels_match(e.labels, it->second)) {
      continue;
    }
    if (!ancestors.empty() && !ancestors.contains(e.image_id)) continue;
    if (!window->admits(e.created)) continue;
    if (!matches("volume", [&](const std::string& v) {
          return std::any_of(e.mounts.begin(), e.mounts.end(), [&](const MountPoint& m) {
            return m.name == v || m.destination == v || m.source == v;
          });
        })) {
      continue;
    }
    if (!matches("network", [&](const std::string& v) { return v == e.network || v == network_id(e.network); })) continue;
    if (!matches("health", [&](const std::string& v) {
          return v == (row.state.health ? container::health_status_name(row.state.health->status) : "none");
        })) {
      continue;
    }
    if (!matches("expose", [&](const std::string& v) {
          return e.exposed.contains(v) || e.exposed.contains(v + "/tcp");
        })) {
      continue;
    }
    if (!matches("publish", [](const std::string&) { return false; })) continue;
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.created > b.created; });
  std::string out = "[";
  int count = 0;
  for (const auto& row : rows) {
    if (limit > 0 && count >= limit) break;
    if (count++ > 0) out += ',';
    const ListEntry& e = *row.entry;
    out += e.json_to_name;
    out += json_text::serialize(json::string(row.name));
    out += e.json_to_state;
    out += '"';
    out += state_name(row.state.status);
    out += "\",\"Status\":";
    out += json_text::serialize(json::string(status_text(row.state, now)));
    if (size) {
      // Rare and slow (it walks the container's files): appended to the entry.
      ContainerRecord r;
      {
        std::lock_guard lock(const_cast<Container*>(row.container)->mutex);
        r = row.container->record;
      }
      Container tmp;
      tmp.record = r;
      auto rw = m.size_rw(ctx, tmp);
      auto img = m.images().resolve(r.image_id);
      out += ",\"SizeRw\":" + std::to_string(rw ? *rw : 0);
      out += ",\"SizeRootFs\":" + std::to_string((rw ? *rw : 0) + (img ? img->record.size : 0));
    }
    out += e.json_after;
  }
  out += "]\n";
  return out;
}

}  // namespace berth::core::api::views
