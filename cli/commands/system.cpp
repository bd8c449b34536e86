// berth version, info, events, system df, system prune.
#include <boost/json.hpp>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/format/human.hpp"
#include "cli/format/json_text.hpp"
#include "cli/format/tabwriter.hpp"
#include "cli/format/template.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------------------------
// version

std::string build_time() {
  // __DATE__ "Nov 22 2026" + __TIME__ "19:57:00" in Go's ANSIC layout "Mon Jan _2 15:04:05 2006".
  struct tm tm {};
  std::string stamp = std::string(__DATE__) + " " + __TIME__;
  if (!strptime(stamp.c_str(), "%b %d %Y %H:%M:%S", &tm)) return stamp;
  tm.tm_isdst = -1;
  mktime(&tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

std::string ansic_from_rfc3339(const std::string& s) {
  int64_t sec = 0, ns = 0;
  if (!parse_rfc3339(s, &sec, &ns)) return s;
  time_t t = static_cast<time_t>(sec);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

json::object client_version(Context& ctx, const std::string& api_version) {
  json::object c;
  c["Version"] = BERTH_CLI_VERSION;
  c["ApiVersion"] = api_version;
  c["DefaultAPIVersion"] = ApiClient::kMaxApiVersion;
  c["BuildTime"] = build_time();
  c["Os"] = "linux";
#if defined(__x86_64__)
  c["Arch"] = "amd64";
#elif defined(__aarch64__)
  c["Arch"] = "arm64";
#else
  c["Arch"] = "unknown";
#endif
  c["Context"] = ctx.endpoint().context;
  (void)ctx;
  return c;
}

std::string render_default_version(const json::object& client, const json::value* server) {
  std::string s = "Client:\n";
  s += " Version:\t" + jstr(client, "Version") + "\n";
  s += " API version:\t" + jstr(client, "ApiVersion");
  if (jstr(client, "ApiVersion") != jstr(client, "DefaultAPIVersion"))
    s += " (downgraded from " + jstr(client, "DefaultAPIVersion") + ")";
  s += "\n";
  s += " Built:\t" + jstr(client, "BuildTime") + "\n";
  s += " OS/Arch:\t" + jstr(client, "Os") + "/" + jstr(client, "Arch") + "\n";
  s += " Context:\t" + jstr(client, "Context");
  if (server) {
    s += "\n\nServer:";
    std::string platform = jstr(*server, "Platform.Name");
    if (!platform.empty()) s += " " + platform;
    const json::value* comps = jfind(*server, "Components");
    if (comps && comps->is_array()) {
      for (auto& c : comps->get_array()) {
        std::string name = jstr(c, "Name");
        s += "\n " + name + ":";
        const json::value* details = jfind(c, "Details");
        auto d = [&](const char* k) { return details ? jstr(*details, k) : std::string(); };
        if (name == "Engine") {
          s += "\n  Version:\t" + jstr(c, "Version");
          s += "\n  API version:\t" + d("ApiVersion") + " (minimum version " + d("MinAPIVersion") +
               ")";
          s += "\n  Go version:\t" + d("GoVersion");
          s += "\n  Git commit:\t" + d("GitCommit");
          s += "\n  Built:\t" + ansic_from_rfc3339(d("BuildTime"));
          s += "\n  OS/Arch:\t" + d("Os") + "/" + d("Arch");
          s += "\n  Experimental:\t" + d("Experimental");
        } else {
          s += "\n  Version:\t" + jstr(c, "Version");
          if (details && details->is_object()) {
            std::vector<std::string> keys;
            for (auto& kv : details->get_object()) keys.emplace_back(kv.key());
            std::sort(keys.begin(), keys.end());
            for (auto& k : keys) s += "\n  " + k + ":\t" + jtext(details->get_object().at(k));
          }
        }
      }
    }
  }
  TabWriter w(20, 1);
  w.write(s);
  w.write("\n");
  return w.flush();
}

std::unique_ptr<Command> make_version() {
  auto cmd = make_command("version", "[OPTIONS]", "Show the Berth version information");
  auto format = std::make_shared<std::string>();
  cmd->flags.add_string("format", 'f', format.get(), kInspectFormatHelp);
  cmd->exact_args(0);
  cmd->run = [format](Context& ctx, const Args&) {
    json::value server;
    bool have_server = false;
    std::string error;
    std::string api_version = ApiClient::kMaxApiVersion;
    try {
      server = ctx.api().get_json("/version");
      api_version = ctx.api().api_version();
      have_server = true;
    } catch (const ConnectError& e) {
      error = ctx.api().unreachable_message(&e);
    } catch (const ApiError& e) {
      error = e.what();
    }
    json::object client = client_version(ctx, api_version);
    if (format->empty()) {
      std::cout << render_default_version(client, have_server ? &server : nullptr);
    } else {
      json::object all;
      all["Client"] = client;
      all["Server"] = have_server ? server : json::value(nullptr);
      std::string f = *format == "json" ? "{{json .}}" : *format;
      Template t;
      try {
        t = Template::parse(f);
      } catch (const TemplateError& e) {
        throw StatusError(std::string("template parsing error: ") + e.what(), 64);
      }
      std::cout << t.execute(all) << "\n";
    }
    if (!error.empty()) throw StatusError(error, 1);
    return 0;
  };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// info

void line(std::string& s, const std::string& label, const std::string& value) {
  s += label + " " + value + "\n";
}
void line_nonempty(std::string& s, const std::string& label, const std::string& value) {
  if (!value.empty()) line(s, label, value);
}

std::string bool_text(const json::value& v, const char* key) {
  return jbool(v, key) ? "true" : "false";
}

std::string render_server_info(const json::value& info, std::vector<std::string>* errors) {
  std::string s;
  line(s, " Containers:", std::to_string(jint(info, "Containers")));
  line(s, "  Running:", std::to_string(jint(info, "ContainersRunning")));
  line(s, "  Paused:", std::to_string(jint(info, "ContainersPaused")));
  line(s, "  Stopped:", std::to_string(jint(info, "ContainersStopped")));
  line(s, " Images:", std::to_string(jint(info, "Images")));
  line_nonempty(s, " Server Version:", jstr(info, "ServerVersion"));
  line_nonempty(s, " Storage Driver:", jstr(info, "Driver"));
  if (auto* ds = jfind(info, "DriverStatus"); ds && ds->is_array())
    for (auto& pair : ds->get_array())
      if (pair.is_array() && pair.get_array().size() >= 2)
        s += "  " + jtext(pair.get_array()[0]) + ": " + jtext(pair.get_array()[1]) + "\n";
  if (auto* ss = jfind(info, "SystemStatus"); ss && ss->is_array())
    for (auto& pair : ss->get_array())
      if (pair.is_array() && pair.get_array().size() >= 2)
        s += " " + jtext(pair.get_array()[0]) + ": " + jtext(pair.get_array()[1]) + "\n";
  line_nonempty(s, " Logging Driver:", jstr(info, "LoggingDriver"));
  line_nonempty(s, " Cgroup Driver:", jstr(info, "CgroupDriver"));
  line_nonempty(s, " Cgroup Version:", jstr(info, "CgroupVersion"));
  s += " Plugins:\n";
  line(s, "  Volume:", join(jstrings(info, "Plugins.Volume"), " "));
  line(s, "  Network:", join(jstrings(info, "Plugins.Network"), " "));
  auto authz = jstrings(info, "Plugins.Authorization");
  if (!authz.empty()) line(s, "  Authorization:", join(authz, " "));
  line(s, "  Log:", join(jstrings(info, "Plugins.Log"), " "));
  std::string swarm = jstr(info, "Swarm.LocalNodeState");
  line(s, " Swarm:", swarm);
  if (!swarm.empty() && swarm != "inactive" && swarm != "locked") {
    line(s, "  NodeID:", jstr(info, "Swarm.NodeID"));
    if (!jstr(info, "Swarm.Error").empty()) line(s, "  Error:", jstr(info, "Swarm.Error"));
    line(s, "  Is Manager:", bool_text(info, "Swarm.ControlAvailable"));
    line(s, "  Node Address:", jstr(info, "Swarm.NodeAddr"));
  }
  if (auto* rt = jfind(info, "Runtimes"); rt && rt->is_object() && !rt->get_object().empty()) {
    std::vector<std::string> names;
    for (auto& kv : rt->get_object()) names.emplace_back(kv.key());
    std::sort(names.begin(), names.end());
    line(s, " Runtimes:", join(names, " "));
    line(s, " Default Runtime:", jstr(info, "DefaultRuntime"));
  }
  std::string os_type = jstr(info, "OSType");
  if (os_type == "linux") {
    line(s, " Init Binary:", jstr(info, "InitBinary"));
    line(s, " containerd version:", jstr(info, "ContainerdCommit.ID"));
    line(s, " runc version:", jstr(info, "RuncCommit.ID"));
    line(s, " init version:", jstr(info, "InitCommit.ID"));
    auto secopts = jstrings(info, "SecurityOptions");
    if (!secopts.empty()) {
      std::string block = " Security Options:\n";
      bool ok = true;
      for (auto& opt : secopts) {
        // "name=seccomp,profile=default" (legacy daemons send bare names).
        std::string name;
        std::vector<std::pair<std::string, std::string>> kvs;
        for (auto& part : split(opt, ",")) {
          bool found = false;
          auto [k, v] = split_once(part, '=', &found);
          if (!found) {
            if (secopts.size() && opt.find('=') == std::string::npos) {
              name = opt;
              break;
            }
            ok = false;
            errors->push_back("invalid security option \"" + part + "\"");
            break;
          }
          if (k == "name") name = v;
          else kvs.emplace_back(k, v);
        }
        block += "  " + name + "\n";
        for (auto& [k, v] : kvs)
          if (k == "profile") block += "   Profile: " + v + "\n";
      }
      if (ok) s += block;
    }
  }
  if (os_type == "windows") line(s, " Default Isolation:", jstr(info, "Isolation"));
  line_nonempty(s, " Kernel Version:", jstr(info, "KernelVersion"));
  line_nonempty(s, " Operating System:", jstr(info, "OperatingSystem"));
  line_nonempty(s, " OSType:", os_type);
  line_nonempty(s, " Architecture:", jstr(info, "Architecture"));
  line(s, " CPUs:", std::to_string(jint(info, "NCPU")));
  line(s, " Total Memory:", bytes_size(jnum(info, "MemTotal")));
  line_nonempty(s, " Name:", jstr(info, "Name"));
  line_nonempty(s, " ID:", jstr(info, "ID"));
  line(s, " Docker Root Dir:", jstr(info, "DockerRootDir"));
  line(s, " Debug Mode:", bool_text(info, "Debug"));
  if (jbool(info, "Debug")) {
    line(s, "  File Descriptors:", std::to_string(jint(info, "NFd")));
    line(s, "  Goroutines:", std::to_string(jint(info, "NGoroutines")));
    line(s, "  System Time:", jstr(info, "SystemTime"));
    line(s, "  EventsListeners:", std::to_string(jint(info, "NEventsListener")));
  }
  line_nonempty(s, " HTTP Proxy:", jstr(info, "HttpProxy"));
  line_nonempty(s, " HTTPS Proxy:", jstr(info, "HttpsProxy"));
  line_nonempty(s, " No Proxy:", jstr(info, "NoProxy"));
  auto labels = jstrings(info, "Labels");
  if (!labels.empty()) {
    s += " Labels:\n";
    for (auto& l : labels) s += "  " + l + "\n";
  }
  line(s, " Experimental:", bool_text(info, "ExperimentalBuild"));
  auto cidrs = jstrings(info, "RegistryConfig.InsecureRegistryCIDRs");
  const json::value* index = jfind(info, "RegistryConfig.IndexConfigs");
  bool has_index = index && index->is_object() && !index->get_object().empty();
  if (!cidrs.empty() || has_index) {
    s += " Insecure Registries:\n";
    if (has_index) {
      std::vector<std::string> names;
      for (auto& kv : index->get_object())
        if (!jbool(kv.value(), "Secure")) names.push_back(jstr(kv.value(), "Name"));
      for (auto& n : names) s += "  " + n + "\n";
    }
    for (auto& c : cidrs) s += "  " + c + "\n";
  }
  auto mirrors = jstrings(info, "RegistryConfig.Mirrors");
  if (!mirrors.empty()) {
    s += " Registry Mirrors:\n";
    for (auto& m : mirrors) s += "  " + m + "\n";
  }
  line(s, " Live Restore Enabled:", bool_text(info, "LiveRestoreEnabled"));
  if (!jstr(info, "ProductLicense").empty())
    line(s, " Product License:", jstr(info, "ProductLicense"));
  if (auto* pools = jfind(info, "DefaultAddressPools"); pools && pools->is_array() &&
                                                         !pools->get_array().empty()) {
    s += " Default Address Pools:\n";
    for (auto& p : pools->get_array())
      s += "   Base: " + jstr(p, "Base") + ", Size: " + std::to_string(jint(p, "Size")) + "\n";
  }
  s += "\n";
  return s;
}

std::unique_ptr<Command> make_info() {
  auto cmd = make_command("info", "[OPTIONS]", "Display system-wide information");
  auto format = std::make_shared<std::string>();
  cmd->flags.add_string("format", 'f', format.get(), kInspectFormatHelp);
  cmd->exact_args(0);
  cmd->run = [format](Context& ctx, const Args&) {
    if (!format->empty()) {
      std::string raw = ctx.api().call(Request{.path = "/info"});
      print_inspect({raw}, *format == "json" ? "{{json .}}" : *format);
      return 0;
    }
    std::string out = "Client:\n";
    out += " Version:    " + std::string(BERTH_CLI_VERSION) + "\n";
    out += " Context:    " + ctx.endpoint().context + "\n";
    out += " Debug Mode: " + std::string(ctx.options().debug ? "true" : "false") + "\n";
    out += "\nServer:\n";
    json::value info;
    try {
      info = ctx.api().get_json("/info");
    } catch (const ConnectError& e) {
      std::cout << out;
      throw StatusError(ctx.api().unreachable_message(&e), 1);
    } catch (const ApiError& e) {
      std::cout << out;
      std::cout.flush();
      std::cerr << "ERROR: " << e.what() << "\n";
      throw StatusError("errors pretty printing info", 1);
    }
    std::vector<std::string> errors;
    out += render_server_info(info, &errors);
    std::cout << out << std::flush;
    for (auto& w : jstrings(info, "Warnings")) std::cerr << w << "\n";
    for (auto& e : errors) std::cerr << "ERROR: " << e << "\n";
    if (!errors.empty()) throw StatusError("errors pretty printing info", 1);
    return 0;
  };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// events

std::string render_event(const json::value& ev) {
  std::string s;
  int64_t nano = jint(ev, "timeNano");
  int64_t sec = jint(ev, "time");
  if (nano) s += format_rfc3339_nano(nano, true) + " ";
  else if (sec) s += format_rfc3339_nano(sec * 1000000000LL, true) + " ";
  s += jstr(ev, "Type") + " " + jstr(ev, "Action") + " " + jstr(ev, "Actor.ID");
  if (auto* attrs = jfind(ev, "Actor.Attributes"); attrs && attrs->is_object() &&
                                                    !attrs->get_object().empty()) {
    std::vector<std::string> kv;
    for (auto& a : attrs->get_object())
      kv.push_back(std::string(a.key()) + "=" + jtext(a.value()));
    std::sort(kv.begin(), kv.end());
    s += " (" + join(kv, ", ") + ")";
  }
  return s + "\n";
}

std::unique_ptr<Command> make_events() {
  struct Opts {
    std::string since, until, format;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("events", "[OPTIONS]", "Get real time events from the server");
  cmd->flags.add_list("filter", 'f', &o->filters, "Filter output based on conditions provided",
                      "filter");
  cmd->flags.add_string("format", 0, &o->format,
                        "Format output using a custom template:\n'json':             Print in "
                        "JSON format\n'TEMPLATE':         Print output using the given Go "
                        "template.");
  cmd->flags.add_string("since", 0, &o->since, "Show all events created since timestamp");
  cmd->flags.add_string("until", 0, &o->until, "Stream events until this timestamp");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    Query q;
    Filters f = parse_filters(o->filters);
    if (!o->since.empty()) q.add("since", api_timestamp(o->since));
    if (!o->until.empty()) q.add("until", api_timestamp(o->until));
    if (!f.empty()) q.add("filters", f.to_json());
    Template t;
    bool templ = !o->format.empty();
    if (templ) {
      try {
        t = Template::parse(o->format == "json" ? "{{json .}}" : o->format);
      } catch (const TemplateError& e) {
        throw StatusError(std::string("template parsing error: ") + e.what(), 64);
      }
    }
    auto resp = ctx.api().send(Request{.path = "/events", .query = q});
    std::string buf, chunk;
    json::stream_parser parser;
    while (resp.read_some(chunk)) {
      buf += chunk;
      chunk.clear();
      // One JSON object per line (any whitespace between objects is accepted).
      size_t start = 0;
      while (true) {
        size_t nl = buf.find('\n', start);
        if (nl == std::string::npos) break;
        std::string line_text = trim(std::string_view(buf).substr(start, nl - start));
        start = nl + 1;
        if (line_text.empty()) continue;
        json::value ev = parse_json(line_text);
        std::string out = templ ? t.execute(ev) + "\n" : render_event(ev);
        std::cout << out << std::flush;
      }
      buf.erase(0, start);
    }
    if (!trim(buf).empty()) {
      json::value ev = parse_json(trim(buf));
      std::cout << (templ ? t.execute(ev) + "\n" : render_event(ev)) << std::flush;
    }
    return 0;
  };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// system df

std::string reclaim_text(int64_t reclaimable, int64_t total) {
  if (total > 0)
    return human_size(static_cast<double>(reclaimable), 4) + " (" +
           std::to_string(reclaimable * 100 / total) + "%)";
  return human_size(static_cast<double>(reclaimable), 4);
}

std::unique_ptr<Command> make_df() {
  struct Opts {
    bool verbose = false;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("df", "[OPTIONS]", "Show docker disk usage");
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("verbose", 'v', &o->verbose, "Show detailed information on space usage");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    json::value df = ctx.api().get_json("/system/df");
    auto arr = [&](const char* k) {
      const json::value* v = jfind(df, k);
      return v && v->is_array() ? v->get_array() : json::array();
    };
    json::array images = arr("Images"), containers = arr("Containers"), volumes = arr("Volumes"),
                cache = arr("BuildCache");
    std::vector<json::value> rows;
    {
      int64_t total = jint(df, "LayersSize"), used = 0, active = 0;
      for (auto& i : images) {
        if (jint(i, "Containers") > 0) ++active;
        if (jint(i, "Containers") != 0 && jint(i, "Size") != -1 && jint(i, "SharedSize") != -1)
          used += jint(i, "Size") - jint(i, "SharedSize");
      }
      rows.push_back(json::object{{"Type", "Images"},
                                  {"TotalCount", std::to_string(images.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(total), 4)},
                                  {"Reclaimable", reclaim_text(total - used, total)}});
    }
    {
      int64_t size = 0, reclaim = 0, active = 0;
      for (auto& c : containers) {
        std::string st = jstr(c, "State");
        bool is_active = st == "running" || st == "paused" || st == "restarting";
        if (is_active) ++active;
        else reclaim += jint(c, "SizeRw");
        size += jint(c, "SizeRw");
      }
      rows.push_back(json::object{{"Type", "Containers"},
                                  {"TotalCount", std::to_string(containers.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(size), 4)},
                                  {"Reclaimable", reclaim_text(reclaim, size)}});
    }
    {
      int64_t size = 0, reclaim = 0, active = 0;
      for (auto& v : volumes) {
        if (jint(v, "UsageData.RefCount") > 0) ++active;
        int64_t sz = jint(v, "UsageData.Size", -1);
        if (sz != -1) {
          if (jint(v, "UsageData.RefCount") == 0) reclaim += sz;
          size += sz;
        }
      }
      rows.push_back(json::object{{"Type", "Local Volumes"},
                                  {"TotalCount", std::to_string(volumes.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(size), 4)},
                                  {"Reclaimable", reclaim_text(reclaim, size)}});
    }
    {
      int64_t active = 0, in_use = 0, size = jint(df, "BuilderSize");
      for (auto& b : cache) {
        if (jbool(b, "InUse")) {
          ++active;
          if (!jbool(b, "Shared")) in_use += jint(b, "Size");
        }
      }
      rows.push_back(json::object{{"Type", "Build Cache"},
                                  {"TotalCount", std::to_string(cache.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(size), 4)},
                                  {"Reclaimable",
                                   human_size(static_cast<double>(size - in_use), 4)}});
    }
    if (o->verbose) {
      std::string out = "Images space usage:\n\n";
      std::vector<json::value> irows;
      for (auto& i : images) {
        auto tags = jstrings(i, "RepoTags");
        std::string repo = "<none>", tag = "<none>";
        if (!tags.empty() && tags[0] != "<none>:<none>") {
          auto pos = tags[0].rfind(':');
          repo = tags[0].substr(0, pos);
          tag = tags[0].substr(pos + 1);
        }
        int64_t size = jint(i, "Size"), shared = jint(i, "SharedSize");
        irows.push_back(json::object{
            {"Repository", repo}, {"Tag", tag}, {"ID", short_id(jstr(i, "Id"))},
            {"CreatedSince", time_ago(jint(i, "Created"))},
            {"Size", human_size(static_cast<double>(size), 3)},
            {"SharedSize", shared == -1 ? "N/A" : human_size(static_cast<double>(shared), 4)},
            {"UniqueSize",
             shared == -1 ? "N/A" : human_size(static_cast<double>(size - shared), 4)},
            {"Containers", std::to_string(jint(i, "Containers"))}});
      }
      out += render_rows(
          "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
          "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
          irows,
          json::object{{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"},
                       {"CreatedSince", "CREATED"}, {"Size", "SIZE"},
                       {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"},
                       {"Containers", "CONTAINERS"}});
      out += "\nContainers space usage:\n\n";
      std::vector<json::value> crows;
      for (auto& c : containers) {
        auto names = jstrings(c, "Names");
        std::string name = names.empty() ? "" : names[0].substr(names[0].starts_with("/"));
        crows.push_back(json::object{
            {"ID", short_id(jstr(c, "Id"))}, {"Image", jstr(c, "Image")},
            {"Command", go_quote(ellipsis(jstr(c, "Command"), 20))},
            {"LocalVolumes", "0"},
            {"Size", human_size(jnum(c, "SizeRw"), 4)},
            {"RunningFor", time_ago(jint(c, "Created"))}, {"Status", jstr(c, "Status")},
            {"Names", name}});
      }
      out += render_rows(
          "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
          "{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
          crows,
          json::object{{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Command", "COMMAND"},
                       {"LocalVolumes", "LOCAL VOLUMES"}, {"Size", "SIZE"},
                       {"RunningFor", "CREATED"}, {"Status", "STATUS"}, {"Names", "NAMES"}});
      out += "\nLocal Volumes space usage:\n\n";
      std::vector<json::value> vrows;
      for (auto& v : volumes) {
        int64_t sz = jint(v, "UsageData.Size", -1);
        vrows.push_back(json::object{
            {"Name", jstr(v, "Name")},
            {"Links", std::to_string(jint(v, "UsageData.RefCount"))},
            {"Size", sz == -1 ? "N/A" : human_size(static_cast<double>(sz), 4)}});
      }
      out += render_rows("table {{.Name}}\t{{.Links}}\t{{.Size}}", vrows,
                         json::object{{"Name", "VOLUME NAME"}, {"Links", "LINKS"},
                                      {"Size", "SIZE"}});
      out += "\nBuild cache usage: " +
             human_size(static_cast<double>(jint(df, "BuilderSize")), 4) + "\n\n";
      out += render_rows(
          "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
          "{{.UsageCount}}\t{{.Shared}}",
          {},
          json::object{{"ID", "CACHE ID"}, {"CacheType", "CACHE TYPE"}, {"Size", "SIZE"},
                       {"CreatedSince", "CREATED"}, {"LastUsedSince", "LAST USED"},
                       {"UsageCount", "USAGE"}, {"Shared", "SHARED"}});
      std::cout << out;
      return 0;
    }
    std::string format = o->format.empty() ? "table" : o->format;
    if (format == "table")
      format = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
    for (auto& r : rows) r = sorted_object(r.as_object());
    std::cout << render_rows(format, rows,
                             json::object{{"Type", "TYPE"}, {"TotalCount", "TOTAL"},
                                          {"Active", "ACTIVE"}, {"Size", "SIZE"},
                                          {"Reclaimable", "RECLAIMABLE"}});
    return 0;
  };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// system prune

std::unique_ptr<Command> make_system_prune() {
  struct Opts {
    bool all = false, force = false, volumes = false;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("prune", "[OPTIONS]", "Remove unused data");
  cmd->flags.add_bool("all", 'a', &o->all, "Remove all unused images not just dangling ones");
  cmd->flags.add_list("filter", 0, &o->filters, "Provide filter values (e.g. \"label=<key>=<value>\")",
                      "filter");
  cmd->flags.add_bool("force", 'f', &o->force, "Do not prompt for confirmation");
  cmd->flags.add_bool("volumes", 0, &o->volumes, "Prune anonymous volumes");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    if (!o->force) {
      std::string warning = "WARNING! This will remove:\n  - all stopped containers\n"
                            "  - all networks not used by at least one container\n";
      if (o->volumes) warning += "  - all anonymous volumes not used by at least one container\n";
      warning += o->all ? "  - all images without at least one container associated to them\n"
                        : "  - all dangling images\n";
      warning += "  - unused build cache\n\nAre you sure you want to continue?";
      if (!confirm(warning)) return 0;
    }
    Filters base = parse_filters(o->filters);
    auto with_filters = [&](Filters f) {
      Query q;
      if (!f.empty()) q.add("filters", f.to_json());
      return q;
    };
    ApiClient& api = ctx.api();
    int64_t reclaimed = 0;
    std::string out;
    // containers
    {
      auto r = api.call_json(
          Request{.method = "POST", .path = "/containers/prune", .query = with_filters(base)});
      auto ids = jstrings(r, "ContainersDeleted");
      if (!ids.empty()) {
        out += "Deleted Containers:\n";
        for (auto& id : ids) out += id + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    {
      auto r = api.call_json(
          Request{.method = "POST", .path = "/networks/prune", .query = with_filters(base)});
      auto names = jstrings(r, "NetworksDeleted");
      if (!names.empty()) {
        out += "Deleted Networks:\n";
        for (auto& n : names) out += n + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
    }
    if (o->volumes) {
      Filters vf = base;
      if (compare_api_versions(api.api_version(), "1.42") >= 0 && o->all) vf.add("all", "true");
      auto r = api.call_json(
          Request{.method = "POST", .path = "/volumes/prune", .query = with_filters(vf)});
      auto names = jstrings(r, "VolumesDeleted");
      if (!names.empty()) {
        out += "Deleted Volumes:\n";
        for (auto& n : names) out += n + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    {
      Filters f = base;
      f.add("dangling", o->all ? "false" : "true");
      auto r = api.call_json(
          Request{.method = "POST", .path = "/images/prune", .query = with_filters(f)});
      const json::value* del = jfind(r, "ImagesDeleted");
      if (del && del->is_array() && !del->get_array().empty()) {
        out += "Deleted Images:\n";
        for (auto& d : del->get_array()) {
          if (!jstr(d, "Untagged").empty()) out += "untagged: " + jstr(d, "Untagged") + "\n";
          else out += "deleted: " + jstr(d, "Deleted") + "\n";
        }
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    {
      Query q;
      q.add("filters", base.empty() ? "" : base.to_json());
      if (o->all) q.add("all", "1");
      auto r = api.call_json(Request{.method = "POST", .path = "/build/prune", .query = q});
      auto ids = jstrings(r, "CachesDeleted");
      if (!ids.empty()) {
        out += "Deleted build cache objects:\n";
        for (auto& id : ids) out += id + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    std::cout << out << "Total reclaimed space: " << human_size(static_cast<double>(reclaimed), 4)
              << "\n";
    return 0;
  };
  return cmd;
}

}  // namespace

void register_system_commands(Command& root) {
  root.add(make_version());
  root.add(make_info());
  root.add(make_events());
  auto system = make_command("system", "", "Manage Berth");
  auto& sys = root.add(std::move(system));
  sys.add(make_df());
  sys.add(make_events());
  sys.add(make_info());
  sys.add(make_system_prune());
  sys.add(make_dial_stdio());
}

}  // namespace berth::cli
