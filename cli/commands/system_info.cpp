// berth version, info.
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
#include "cli/commands/system_commands.hpp"

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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace berth::cli
