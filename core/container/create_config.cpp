#include "core/container/create_config.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "core/common/json_fields.hpp"
#include "core/config/daemon_config.hpp"
#include "core/container/create_config_detail.hpp"
#include "core/container/health.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

using namespace create_detail;
using json_fields::str;
using json_fields::num;
using json_fields::flag;

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string env_key(std::string_view e) { return std::string(e.substr(0, e.find('='))); }

}  // namespace

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
