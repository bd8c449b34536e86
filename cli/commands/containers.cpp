// The container command group: what its verbs share (rows, ports, inspect, tty resizing) and
// its registration. The verbs live in container_ls.cpp, container_info.cpp,
// container_modify.cpp, container_remove.cpp, run.cpp, exec.cpp, stats.cpp and cp.cpp.
#include "cli/commands/containers.hpp"
#include "cli/commands/container_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/format/human.hpp"
#include "cli/format/json_text.hpp"
#include "cli/format/tabwriter.hpp"
#include "cli/stream/stdcopy.hpp"
#include "cli/term/terminal.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/reference.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// ps rendering

std::string displayable_ports(const json::value& ports_v) {
  struct Port {
    std::string ip, type;
    int64_t priv, pub;
  };
  std::vector<Port> ports;
  if (ports_v.is_array())
    for (auto& p : ports_v.get_array())
      ports.push_back({jstr(p, "IP"), jstr(p, "Type"), jint(p, "PrivatePort"), jint(p, "PublicPort")});
  std::sort(ports.begin(), ports.end(), [](const Port& a, const Port& b) {
    if (a.priv != b.priv) return a.priv < b.priv;
    if (a.ip != b.ip) return a.ip < b.ip;
    if (a.pub != b.pub) return a.pub < b.pub;
    return a.type < b.type;
  });
  auto join_host_port = [](const std::string& ip, const std::string& port) {
    return ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
  };
  struct Group {
    int64_t first, last;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> keys, result, host_mappings;
  auto form = [&](const std::string& key, int64_t start, int64_t last) {
    auto slash = key.rfind('/');
    std::string type = key.substr(slash + 1);
    std::string ip = slash == std::string::npos ? "" : key.substr(0, slash);
    if (key.find('/') == std::string::npos) {
      type = key;
      ip = "";
    }
    std::string group = std::to_string(start);
    if (start != last) group += "-" + std::to_string(last);
    if (!ip.empty()) group = join_host_port(ip, group) + "->" + group;
    return group + "/" + type;
  };
  for (auto& p : ports) {
    std::string key = p.type;
    if (!p.ip.empty()) {
      if (p.pub != p.priv) {
        host_mappings.push_back(join_host_port(p.ip, std::to_string(p.pub)) + "->" +
                                std::to_string(p.priv) + "/" + p.type);
        continue;
      }
      key = p.ip + "/" + p.type;
    }
    auto it = groups.find(key);
    if (it == groups.end()) {
      groups[key] = {p.priv, p.priv};
      keys.push_back(key);
      continue;
    }
    if (p.priv == it->second.last + 1) {
      it->second.last = p.priv;
      continue;
    }
    result.push_back(form(key, it->second.first, it->second.last));
    it->second = {p.priv, p.priv};
  }
  for (auto& k : keys) result.push_back(form(k, groups[k].first, groups[k].last));
  result.insert(result.end(), host_mappings.begin(), host_mappings.end());
  return join(result, ", ");
}

json::object container_row(const json::value& c, bool trunc) {
  json::object r;
  std::string id = jstr(c, "Id");
  r["ID"] = trunc ? short_id(id) : id;
  // Image: short ID when the container was created from an ID; familiar name otherwise.
  std::string image = jstr(c, "Image");
  std::string image_text = image;
  if (image.empty()) {
    image_text = "<no image>";
  } else if (trunc) {
    std::string image_id = jstr(c, "ImageID");
    if (short_id(image_id) == short_id(image)) {
      image_text = short_id(image_id);
    } else {
      Reference ref;
      if (Reference::parse(image, &ref)) {
        ref.digest.clear();
        image_text = ref.familiar_string();
      }
    }
  }
  r["Image"] = image_text;
  std::string command = jstr(c, "Command");
  r["Command"] = go_quote(trunc ? ellipsis(command, 20) : command);
  int64_t created = jint(c, "Created");
  r["CreatedAt"] = format_local_time(created);
  r["RunningFor"] = time_ago(created);
  r["Ports"] = displayable_ports(jfind(c, "Ports") ? *jfind(c, "Ports") : json::value());
  r["State"] = jstr(c, "State");
  r["Status"] = jstr(c, "Status");
  std::string srw = human_size(jnum(c, "SizeRw"), 3);
  r["Size"] = jint(c, "SizeRootFs") > 0 ? srw + " (virtual " + human_size(jnum(c, "SizeRootFs"), 3) + ")"
                                          : srw;
  std::vector<std::string> names;
  for (auto& n : jstrings(c, "Names")) names.push_back(n.starts_with("/") ? n.substr(1) : n);
  if (trunc) {
    for (auto& n : names)
      if (n.find('/') == std::string::npos) {
        names = {n};
        break;
      }
  }
  r["Names"] = join(names, ",");
  std::vector<std::string> labels;
  if (auto* l = jfind(c, "Labels"); l && l->is_object())
    for (auto& kv : l->get_object()) labels.push_back(std::string(kv.key()) + "=" + jtext(kv.value()));
  std::sort(labels.begin(), labels.end());
  r["Labels"] = join(labels, ",");
  std::vector<std::string> mounts;
  int local = 0;
  if (auto* m = jfind(c, "Mounts"); m && m->is_array())
    for (auto& mt : m->get_array()) {
      std::string name = jstr(mt, "Name").empty() ? jstr(mt, "Source") : jstr(mt, "Name");
      mounts.push_back(trunc ? ellipsis(name, 15) : name);
      if (jstr(mt, "Driver") == "local") ++local;
    }
  r["Mounts"] = join(mounts, ",");
  r["LocalVolumes"] = std::to_string(local);
  std::vector<std::string> nets;
  if (auto* n = jfind(c, "NetworkSettings.Networks"); n && n->is_object())
    for (auto& kv : n->get_object()) nets.emplace_back(kv.key());
  r["Networks"] = join(nets, ",");
  r["Platform"] = nullptr;  // docker 28 adds it (always null against API < 1.46)
  return sorted_object(r);
}

const json::object& container_header() {
  static const json::object h{
      {"ID", "CONTAINER ID"}, {"Image", "IMAGE"},      {"Command", "COMMAND"},
      {"CreatedAt", "CREATED AT"}, {"RunningFor", "CREATED"}, {"Ports", "PORTS"},
      {"State", "STATE"},     {"Status", "STATUS"},    {"Size", "SIZE"},
      {"Names", "NAMES"},     {"Labels", "LABELS"},    {"Mounts", "MOUNTS"},
      {"Networks", "NETWORKS"}, {"LocalVolumes", "LOCAL VOLUMES"}};
  return h;
}

json::value inspect_container(Context& ctx, const std::string& id) {
  return ctx.api().get_json("/containers/" + path_escape(id) + "/json");
}

int run_error_code(const std::string& msg) {
  if (msg.find("executable file not found") != std::string::npos ||
      msg.find("no such file or directory") != std::string::npos ||
      msg.find("system cannot find the file specified") != std::string::npos)
    return 127;
  if (msg.find("permission denied") != std::string::npos ||
      msg.find("is a directory") != std::string::npos)
    return 126;
  return 125;
}

bool resize_tty(Context& ctx, const std::string& path_prefix) {
  unsigned rows = 0, cols = 0;
  if (!terminal_size(1, &rows, &cols) || rows == 0 || cols == 0) return true;
  Query q;
  q.add("h", std::to_string(rows)).add("w", std::to_string(cols));
  try {
    ctx.api().call(Request{.method = "POST", .path = path_prefix + "/resize", .query = q});
    return true;
  } catch (const ApiError&) {
    return false;
  }
}

TtyResizer::TtyResizer(Context& ctx, std::string path_prefix) {
  if (resize_tty(ctx, path_prefix)) return;
  thread_ = std::thread([this, &ctx, path_prefix] {
    for (int retry = 0; retry < 10; ++retry) {
      for (int slept = 0; slept < (retry + 1) * 10; slept += 5) {
        if (stop_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (resize_tty(ctx, path_prefix)) return;
    }
    if (!stop_) std::cerr << "failed to resize tty, using default size\n";
  });
}

TtyResizer::~TtyResizer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void register_container_commands(Command& root) {
  auto& container = root.add(make_command("container", "", "Manage containers"));
  auto both = [&](auto make, bool shortcut) {
    auto a = make();
    std::string name = a->name;
    container.add(std::move(a));
    if (shortcut) root.add(make());
  };
  both(make_run, true);
  both(make_create, true);
  both(make_start, true);
  both(make_attach, true);
  both(make_exec, true);
  both(make_stats, true);
  both(make_cp, true);
  both([] { return make_simple_action("stop", "Stop one or more running containers", "stop"); }, true);
  both([] { return make_simple_action("restart", "Restart one or more containers", "restart"); }, true);
  both([] { return make_simple_action("kill", "Kill one or more running containers", "kill"); }, true);
  both([] { return make_simple_action("pause", "Pause all processes within one or more containers", "pause"); }, true);
  both([] { return make_simple_action("unpause", "Unpause all processes within one or more containers", "unpause"); }, true);
  both(make_wait, true);
  both(make_rm, true);
  both(make_rename, true);
  both(make_top, true);
  both(make_port, true);
  both(make_diff, true);
  both(make_logs, true);
  both(make_commit, true);
  both(make_update, true);
  both(make_export, true);
  container.add(make_container_inspect());
  container.add(make_container_prune());
  // `container ls` (aliases ps, list) and the root `ps`.
  container.add(make_ps());
  auto ps = make_ps();
  ps->name = "ps";
  ps->aliases.clear();
  root.add(std::move(ps));
  root.add(make_inspect());
}

}  // namespace berth::cli
