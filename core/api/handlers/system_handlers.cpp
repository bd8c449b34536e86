// /_ping, /version, /info, /events and our own /plugins.
#include "core/api/handlers/system_handlers.hpp"

#include <boost/json.hpp>

#include "core/common/json_text.hpp"
#include "core/api/filters.hpp"
#include "core/common/time.hpp"
#include "core/version.hpp"

namespace json = boost::json;

namespace berth::core::api {
namespace {

json::object version_object(const SystemDeps& d) {
  const auto& h = d.host;
  json::object details{{"ApiVersion", kApiVersion},
                       {"Arch", h.go_arch},
                       {"BuildTime", kBuildTime},
                       {"Experimental", "false"},
                       {"GitCommit", kGitCommit},
                       {"GoVersion", kCompiler},
                       {"KernelVersion", h.kernel_version},
                       {"MinAPIVersion", kMinApiVersion},
                       {"Os", "linux"}};
  json::array components;
  components.push_back(json::object{{"Name", "Engine"}, {"Version", kBerthVersion}, {"Details", details}});
  // One component per loaded driver: `docker version` prints them under the engine.
  for (const auto& r : d.plugins.records()) {
    if (r.state != "ok") continue;
    components.push_back(json::object{
        {"Name", r.id},
        {"Version", r.version},
        {"Details", json::object{{"Plugin", r.plugin}, {"Vendor", r.vendor}, {"Abi", r.abi}}}});
  }
  return json::object{{"Platform", json::object{{"Name", "Berth Engine"}}},
                      {"Components", std::move(components)},
                      {"Version", kBerthVersion},
                      {"ApiVersion", kApiVersion},
                      {"MinAPIVersion", kMinApiVersion},
                      {"GitCommit", kGitCommit},
                      {"GoVersion", kCompiler},
                      {"Os", "linux"},
                      {"Arch", h.go_arch},
                      {"KernelVersion", h.kernel_version},
                      {"BuildTime", kBuildTime}};
}

json::array string_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  json::array out;
  for (const auto& [k, v] : pairs) out.push_back(json::array{json::string(k), json::string(v)});
  return out;
}

json::object info_object(const SystemDeps& d) {
  const auto& h = d.host;
  ContainerCounts counts = d.container_counts ? d.container_counts() : ContainerCounts{};
  std::string driver = d.plugins.storage_name();
  std::vector<std::pair<std::string, std::string>> driver_status;
  json::array network_plugins;
  json::array plugin_rows;
  // Asked live: the driver's figures (snapshot counts, usage) change while we run.
  driver_status = d.plugins.storage().info().status;
  for (const auto& r : d.plugins.records()) {
    if (r.kind == "network" && r.state == "ok") network_plugins.push_back(json::string(r.name));
  }
  network_plugins.push_back(json::string("null"));
  json::array security_options{json::string("name=seccomp,profile=default"),
                               json::string("name=cgroupns")};
  if (!d.config.userns_remap.empty()) security_options.push_back(json::string("name=userns"));
  json::array warnings;
  if (d.warnings) {
    for (const auto& w : d.warnings()) warnings.push_back(json::string(w));
  }
  const bool isolation = d.plugins.isolation() != nullptr;
  json::object info{
      {"ID", d.daemon_id},
      {"Containers", counts.total},
      {"ContainersRunning", counts.running},
      {"ContainersPaused", counts.paused},
      {"ContainersStopped", counts.stopped},
      {"Images", d.image_count ? d.image_count() : 0},
      {"Driver", driver},
      {"DriverStatus", string_pairs(driver_status)},
      {"Plugins", json::object{{"Volume", json::array{json::string("local")}},
                               {"Network", std::move(network_plugins)},
                               {"Authorization", nullptr},
                               {"Log", json::array{json::string("json-file")}}}},
      {"MemoryLimit", isolation},
      {"SwapLimit", isolation},
      {"KernelMemory", false},
      {"KernelMemoryTCP", false},
      {"CpuCfsPeriod", isolation},
      {"CpuCfsQuota", isolation},
      {"CPUShares", isolation},
      {"CPUSet", isolation},
      {"PidsLimit", isolation},
      {"IPv4Forwarding", true},
      {"BridgeNfIptables", false},
      {"BridgeNfIp6tables", false},
      {"Debug", d.config.log_level == "debug" || d.config.log_level == "trace"},
      {"NFd", d.open_fds ? d.open_fds() : 0},
      {"OomKillDisable", false},
      {"NGoroutines", d.thread_count ? d.thread_count() : 0},
      {"SystemTime", rfc3339_nano(now_unix_nano())},
      {"LoggingDriver", "json-file"},
      {"CgroupDriver", "cgroupfs"},
      {"CgroupVersion", h.cgroup_version},
      {"NEventsListener", static_cast<int64_t>(d.events.listener_count())},
      {"KernelVersion", h.kernel_version},
      {"OperatingSystem", h.operating_system},
      {"OSVersion", h.os_version},
      {"OSType", "linux"},
      {"Architecture", h.architecture},
      {"IndexServerAddress", "https://index.docker.io/v1/"},
      {"RegistryConfig",
       json::object{{"AllowNondistributableArtifactsCIDRs", json::array()},
                    {"AllowNondistributableArtifactsHostnames", json::array()},
                    {"InsecureRegistryCIDRs", json::array{json::string("127.0.0.0/8")}},
                    {"IndexConfigs", json::object{{"docker.io", json::object{{"Name", "docker.io"},
                                                                             {"Mirrors", json::array()},
                                                                             {"Secure", true},
                                                                             {"Official", true}}}}},
                    {"Mirrors", json::array()}}},
      {"NCPU", h.ncpu},
      {"MemTotal", h.mem_total},
      {"GenericResources", nullptr},
      {"DockerRootDir", d.config.data_root},
      {"HttpProxy", ""},
      {"HttpsProxy", ""},
      {"NoProxy", ""},
      {"Name", h.hostname},
      {"Labels", json::array()},
      {"ExperimentalBuild", false},
      {"ServerVersion", kBerthVersion},
      // "runc" is the name every client asks for; it is this daemon's isolation backend.
      {"Runtimes", json::object{{"runc", json::object{{"path", "isolation." + d.config.isolation_backend}}},
                                {"berth", json::object{{"path", "isolation." + d.config.isolation_backend}}}}},
      {"DefaultRuntime", "runc"},
      {"Swarm", json::object{{"NodeID", ""},
                             {"NodeAddr", ""},
                             {"LocalNodeState", "inactive"},
                             {"ControlAvailable", false},
                             {"Error", ""},
                             {"RemoteManagers", nullptr}}},
      {"LiveRestoreEnabled", true},
      {"Isolation", ""},
      {"InitBinary", "berth-init"},
      {"ContainerdCommit", json::object{{"ID", ""}, {"Expected", ""}}},
      {"RuncCommit", json::object{{"ID", ""}, {"Expected", ""}}},
      {"InitCommit", json::object{{"ID", ""}, {"Expected", ""}}},
      {"SecurityOptions", std::move(security_options)},
      {"Warnings", warnings.empty() ? json::value(nullptr) : json::value(std::move(warnings))}};
  // Berth's own: every plugin and its state (`berth info` prints these).
  json::array plugins;
  for (const auto& r : d.plugins.records()) {
    plugins.push_back(json::object{{"Id", r.id}, {"State", r.state}, {"File", r.file},
                                   {"Version", r.version}, {"Reason", r.reason}});
  }
  info["BerthPlugins"] = std::move(plugins);
  return info;
}

json::object plugin_object(const plugin::PluginRecord& r) {
  json::array caps;
  for (const auto& c : r.capabilities) caps.push_back(json::string(c));
  return json::object{
      {"Id", r.id},
      {"Kind", r.kind},
      {"Name", r.name.empty() ? r.id : r.name},
      {"File", r.file},
      {"Plugin", r.plugin},
      {"Version", r.version},
      {"Vendor", r.vendor},
      {"Abi", r.abi},
      {"Sdk", r.sdk_version},
      {"Toolchain", r.toolchain},
      {"State", r.state},
      {"Reason", r.reason},
      {"Fix", r.fix},
      {"Status", string_pairs(r.status)},
      {"Capabilities", std::move(caps)},
      // Read by `docker plugin ls`.
      {"Enabled", r.state == "ok"},
      {"Config", json::object{{"Description", r.kind.empty() ? r.state : r.kind + " driver"}}}};
}

void handle_events(SystemDeps& d, Request& req, ResponseWriter& res) {
  auto filters = parse_filters(req.query_value("filters").value_or(""));
  if (!filters) return res.send_error(filters.error());
  std::string error;
  auto filter = events::EventFilter::parse(*filters, &error);
  if (!filter) return res.send_error(400, error);
  int64_t now = now_unix_nano();
  std::optional<int64_t> since, until;
  if (auto s = req.query_value("since"); s && !s->empty()) {
    since = parse_timestamp_param(*s);
    if (!since) return res.send_error(400, "invalid value for since: \"" + *s + "\"");
  }
  if (auto u = req.query_value("until"); u && !u->empty()) {
    until = parse_timestamp_param(*u);
    if (!until) return res.send_error(400, "invalid value for until: \"" + *u + "\"");
  }
  // Subscribe before reading the history so nothing falls between the two.
  auto sub = d.events.subscribe();
  if (!res.start_stream(200, "application/json")) return;
  int64_t last = 0;
  auto send = [&](const events::Event& e) -> bool {
    if (!filter->matches(e)) return true;
    return res.write_chunk(json_text::serialize(e.to_json()) + "\n").has_value();
  };
  if (since) {
    for (const auto& e : d.events.history(*since, until.value_or(0))) {
      if (!send(e)) return;
      last = e.time_nano;
    }
  }
  if (until && *until <= now) {
    (void)res.end_stream();
    return;
  }
  while (!res.client_gone() && !d.stopping()) {
    for (const auto& e : sub->wait(500)) {
      if (e.time_nano <= last) continue;  // already replayed
      if (until && e.time_nano > *until) {
        (void)res.end_stream();
        return;
      }
      if (!send(e)) return;
    }
    if (until && now_unix_nano() > *until) break;
  }
  (void)res.end_stream();
}

}  // namespace

// Swarm mode is not supported: the swarm's routes answer as a daemon outside a swarm does (503
// "This node is not part of a swarm", which clients such as docker-py's leave_swarm(force=True)
// expect), and joining or creating one is refused plainly.
void register_swarm_routes(Router& router) {
  auto not_in_swarm = [](Request&, ResponseWriter& res) {
    res.send_error(503, "This node is not part of a swarm");
  };
  auto unsupported = [](Request&, ResponseWriter& res) {
    res.send_error(501, "swarm mode is not supported by berthd: this node cannot create or join a swarm");
  };
  router.add("POST", "/swarm/init", unsupported);
  router.add("POST", "/swarm/join", unsupported);
  for (const char* root : {"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"}) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
      router.add(method, root, not_in_swarm);
      router.add(method, std::string(root) + "/{rest*}", not_in_swarm);
    }
  }
}

void register_system_routes(Router& router, std::shared_ptr<SystemDeps> deps) {
  register_swarm_routes(router);
  auto ping = [](Request& req, ResponseWriter& res) {
    res.add_header("Cache-Control", "no-cache, no-store, must-revalidate");
    res.add_header("Pragma", "no-cache");
    res.add_header("Swarm", "inactive");
    res.send(200, req.method == "HEAD" ? "" : "OK", "text/plain; charset=utf-8");
  };
  router.add("GET", "/_ping", ping);
  router.add("HEAD", "/_ping", ping);
  router.add("GET", "/version", [deps](Request&, ResponseWriter& res) {
    res.send_json(200, version_object(*deps));
  });
  router.add("GET", "/info", [deps](Request&, ResponseWriter& res) {
    res.send_json(200, info_object(*deps));
  });
  router.add("GET", "/events", [deps](Request& req, ResponseWriter& res) {
    handle_events(*deps, req, res);
  });
  router.add("GET", "/plugins", [deps](Request&, ResponseWriter& res) {
    json::array out;
    for (const auto& r : deps->plugins.records()) out.push_back(plugin_object(r));
    res.send_json(200, out);
  });
  router.add("GET", "/plugins/{name*}/json", [deps](Request& req, ResponseWriter& res) {
    std::string name = req.param("name");
    for (const auto& r : deps->plugins.records()) {
      if (r.id == name || r.plugin == name) return res.send_json(200, plugin_object(r));
    }
    res.send_error(404, "plugin \"" + name + "\" not found");
  });
}

}  // namespace berth::core::api
