// Container commands that are plain request/response: ps, inspect, stop, restart, kill, pause,
// unpause, wait, rm, rename, top, port, diff, logs, commit, update, export, container prune,
// and the untyped `inspect`.
#include "cli/commands/containers.hpp"

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

namespace {

// Runs fn for each name in parallel (docker does these concurrently), printing successes in
// argument order and collecting failures.
template <class Fn>
std::vector<std::string> parallel_names(const Args& names, Fn fn, std::vector<std::string>* errs) {
  std::vector<std::future<std::string>> futures;
  for (auto& n : names) futures.push_back(std::async(std::launch::async, [&fn, n] {
    try {
      fn(n);
      return std::string();
    } catch (const ConnectError&) {
      throw;
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  }));
  std::vector<std::string> ok;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string err = futures[i].get();
    if (err.empty()) ok.push_back(names[i]);
    else errs->push_back(err);
  }
  return ok;
}

std::unique_ptr<Command> make_ps() {
  struct Opts {
    bool all = false, quiet = false, size = false, no_trunc = false, latest = false;
    long long last = -1;
    std::vector<std::string> filters;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("ls", "[OPTIONS]", "List containers");
  cmd->aliases = {"ps", "list"};
  cmd->alias_paths = {"berth container ls", "berth container list", "berth container ps",
                      "berth ps"};
  cmd->flags.add_bool("all", 'a', &o->all, "Show all containers (default shows just running)");
  cmd->flags.add_list("filter", 'f', &o->filters, "Filter output based on conditions provided",
                      "filter");
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_int("last", 'n', &o->last, "Show n last created containers (includes all states)");
  cmd->flags.find_short('n')->default_text = "-1";
  cmd->flags.add_bool("latest", 'l', &o->latest, "Show the latest created container (includes all states)");
  cmd->flags.add_bool("no-trunc", 0, &o->no_trunc, "Don't truncate output");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Only display container IDs");
  cmd->flags.add_bool("size", 's', &o->size, "Display total file sizes");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    if (!o->format.empty() && o->quiet)
      std::cerr << "WARNING: Ignoring custom format, because both --format and --quiet are set.\n";
    Query q;
    long long limit = o->last;
    if (o->latest && limit == -1) limit = 1;
    bool size = o->size;
    if (!o->format.empty() && !o->quiet && !size && o->format.find(".Size") != std::string::npos)
      size = true;
    if (o->all) q.add("all", "1");
    if (limit > 0) q.add("limit", std::to_string(limit));
    if (size) q.add("size", "1");
    Filters f = parse_filters(o->filters);
    if (!f.empty()) q.add("filters", f.to_json());
    json::value list = ctx.api().get_json("/containers/json", q);
    std::vector<json::value> rows;
    if (list.is_array())
      for (auto& c : list.get_array()) rows.push_back(container_row(c, !o->no_trunc));
    std::string format = o->format;
    if (format.empty() || format == "table" || o->quiet) {
      if (o->quiet) format = "{{.ID}}";
      else {
        format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
                 "{{.Ports}}\t{{.Names}}";
        if (size) format += "\t{{.Size}}";
      }
    }
    std::cout << render_rows(format, rows, container_header());
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_container_inspect() {
  struct Opts {
    std::string format;
    bool size = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("inspect", "[OPTIONS] CONTAINER [CONTAINER...]",
                          "Display detailed information on one or more containers");
  cmd->flags.add_string("format", 'f', &o->format, kInspectFormatHelp);
  cmd->flags.add_bool("size", 's', &o->size, "Display total file sizes");
  cmd->min_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    std::vector<std::string> raws, errors;
    for (auto& name : args) {
      try {
        Query q;
        if (o->size) q.add("size", "1");
        raws.push_back(ctx.api().call(
            Request{.path = "/containers/" + path_escape(name) + "/json", .query = q}));
      } catch (const ApiError& e) {
        errors.push_back(e.what());
      }
    }
    print_inspect(raws, o->format);
    if (!errors.empty()) throw StatusError(join(errors, "\n"), 1);
    return 0;
  };
  return cmd;
}

// stop / restart / kill / pause / unpause share one shape: POST per name, print the name.
std::unique_ptr<Command> make_simple_action(const std::string& name, const std::string& help,
                                            const std::string& verb) {
  struct Opts {
    long long time = -1;
    std::string signal;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command(name, "[OPTIONS] CONTAINER [CONTAINER...]", help);
  cmd->alias_paths = {"berth container " + name, "berth " + name};
  if (name == "stop" || name == "restart") {
    cmd->flags.add_string("signal", 's', &o->signal, "Signal to send to the container");
    cmd->flags.add_int("time", 't', &o->time,
                       "Seconds to wait before killing the container");
  }
  if (name == "kill")
    cmd->flags.add_string("signal", 's', &o->signal, "Signal to send to the container");
  if (name == "pause" || name == "unpause") cmd->usage_args = "CONTAINER [CONTAINER...]";
  cmd->min_args = 1;
  cmd->run = [o, name, verb](Context& ctx, const Args& args) {
    ApiClient& api = ctx.api();
    api.api_version();  // negotiate once before going parallel
    bool new_api = compare_api_versions(api.api_version(), "1.42") >= 0;
    std::vector<std::string> errs;
    auto ok = parallel_names(args, [&](const std::string& c) {
      Query q;
      if ((name == "stop" || name == "restart") && o->time >= 0)
        q.add("t", std::to_string(o->time));
      if (!o->signal.empty() && (name == "kill" || new_api)) q.add("signal", o->signal);
      api.call(Request{.method = "POST", .path = "/containers/" + path_escape(c) + "/" + verb,
                       .query = q});
    }, &errs);
    std::string out;
    for (auto& n : ok) out += n + "\n";
    std::cout << out << std::flush;
    if (!errs.empty()) {
      // docker prints each daemon error, then fails the command.
      throw StatusError(join(errs, "\n"), 1);
    }
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_wait() {
  auto cmd = make_command("wait", "CONTAINER [CONTAINER...]",
                          "Block until one or more containers stop, then print their exit codes");
  cmd->alias_paths = {"berth container wait", "berth wait"};
  cmd->min_args = 1;
  cmd->run = [](Context& ctx, const Args& args) {
    std::vector<std::string> errs;
    for (auto& c : args) {
      try {
        json::value r = ctx.api().call_json(
            Request{.method = "POST", .path = "/containers/" + path_escape(c) + "/wait"});
        std::cout << jint(r, "StatusCode") << "\n" << std::flush;
      } catch (const ApiError& e) {
        errs.push_back(e.what());
      }
    }
    if (!errs.empty()) throw StatusError(join(errs, "\n"), 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_rm() {
  struct Opts {
    bool force = false, volumes = false, link = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("rm", "[OPTIONS] CONTAINER [CONTAINER...]",
                          "Remove one or more containers");
  cmd->aliases = {"remove"};
  cmd->alias_paths = {"berth container rm", "berth container remove", "berth rm"};
  cmd->flags.add_bool("force", 'f', &o->force,
                      "Force the removal of a running container (uses SIGKILL)");
  cmd->flags.add_bool("link", 'l', &o->link, "Remove the specified link");
  cmd->flags.add_bool("volumes", 'v', &o->volumes,
                      "Remove anonymous volumes associated with the container");
  cmd->min_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    ApiClient& api = ctx.api();
    api.api_version();
    std::vector<std::string> errs;
    bool fatal = false;
    std::mutex mu;
    auto ok = parallel_names(args, [&](const std::string& c) {
      std::string name = trim_chars(c, '/');
      if (name.empty()) throw std::runtime_error("Container name cannot be empty");
      Query q;
      if (o->volumes) q.add("v", "1");
      if (o->link) q.add("link", "1");
      if (o->force) q.add("force", "1");
      try {
        api.call(Request{.method = "DELETE", .path = "/containers/" + path_escape(name), .query = q});
      } catch (const ApiError& e) {
        std::lock_guard lock(mu);
        // rm -f: a missing container is reported but not a failure.
        if (!(o->force && e.not_found())) fatal = true;
        throw;
      }
    }, &errs);
    std::string out;
    for (auto& n : ok) out += n + "\n";
    std::cout << out << std::flush;
    if (!errs.empty()) {
      if (!fatal) {
        std::cerr << join(errs, "\n") << "\n";
        return 0;
      }
      throw StatusError(join(errs, "\n"), 1);
    }
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_rename() {
  auto cmd = make_command("rename", "CONTAINER NEW_NAME", "Rename a container");
  cmd->alias_paths = {"berth container rename", "berth rename"};
  cmd->exact_args(2);
  cmd->run = [](Context& ctx, const Args& args) {
    std::string old_name = trim(args[0]), new_name = trim(args[1]);
    if (old_name.empty() || new_name.empty())
      throw StatusError("Error: Neither old nor new names may be empty", 1);
    try {
      ctx.api().call(Request{.method = "POST",
                             .path = "/containers/" + path_escape(old_name) + "/rename",
                             .query = Query().add("name", new_name)});
    } catch (const ApiError& e) {
      throw StatusError(std::string(e.what()) + "\nError: failed to rename container named " +
                            old_name,
                        1);
    }
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_top() {
  auto cmd = make_command("top", "CONTAINER [ps OPTIONS]",
                          "Display the running processes of a container");
  cmd->alias_paths = {"berth container top", "berth top"};
  cmd->interspersed = false;
  cmd->min_args = 1;
  cmd->run = [](Context& ctx, const Args& args) {
    Query q;
    if (args.size() > 1) q.add("ps_args", join(Args(args.begin() + 1, args.end()), " "));
    json::value r = ctx.api().get_json("/containers/" + path_escape(args[0]) + "/top", q);
    std::string text = join(jstrings(r, "Titles"), "\t") + "\n";
    if (auto* procs = jfind(r, "Processes"); procs && procs->is_array())
      for (auto& p : procs->get_array()) {
        std::vector<std::string> cells;
        if (p.is_array())
          for (auto& c : p.get_array()) cells.push_back(jtext(c));
        text += join(cells, "\t") + "\n";
      }
    TabWriter w(20, 3);
    w.write(text);
    std::cout << w.flush();
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_port() {
  auto cmd = make_command("port", "CONTAINER [PRIVATE_PORT[/PROTO]]",
                          "List port mappings or a specific mapping for the container");
  cmd->alias_paths = {"berth container port", "berth port"};
  cmd->min_args = 1;
  cmd->max_args = 2;
  cmd->run = [](Context& ctx, const Args& args) {
    json::value c = inspect_container(ctx, args[0]);
    const json::value* ports = jfind(c, "NetworkSettings.Ports");
    auto host_port = [](const json::value& b) {
      std::string ip = jstr(b, "HostIp"), port = jstr(b, "HostPort");
      return ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
    };
    std::vector<std::string> lines;
    if (args.size() == 2) {
      bool has = false;
      auto [port, proto] = split_once(args[1], '/', &has);
      if (!has) proto = "tcp";
      std::string key = port + "/" + proto;
      const json::value* b = ports && ports->is_object() ? ports->get_object().if_contains(key)
                                                         : nullptr;
      if (b && b->is_array() && !b->get_array().empty()) {
        for (auto& e : b->get_array()) lines.push_back(host_port(e));
      } else {
        throw StatusError("Error: No public port '" + key + "' published for " + args[0], 1);
      }
    } else if (ports && ports->is_object()) {
      std::vector<std::pair<std::string, const json::value*>> items;
      for (auto& kv : ports->get_object()) items.emplace_back(std::string(kv.key()), &kv.value());
      // docker sorts by port number, then protocol.
      std::sort(items.begin(), items.end(), [](auto& a, auto& b) {
        int pa = std::atoi(a.first.c_str()), pb = std::atoi(b.first.c_str());
        return pa != pb ? pa < pb : a.first < b.first;
      });
      for (auto& [k, v] : items)
        if (v->is_array())
          for (auto& e : v->get_array()) lines.push_back(k + " -> " + host_port(e));
    }
    for (auto& l : lines) std::cout << l << "\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_diff() {
  auto cmd = make_command("diff", "CONTAINER",
                          "Inspect changes to files or directories on a container's filesystem");
  cmd->alias_paths = {"berth container diff", "berth diff"};
  cmd->exact_args(1);
  cmd->run = [](Context& ctx, const Args& args) {
    json::value r = ctx.api().get_json("/containers/" + path_escape(args[0]) + "/changes");
    std::string out;
    if (r.is_array())
      for (auto& ch : r.get_array()) {
        int64_t kind = jint(ch, "Kind");
        const char* k = kind == 0 ? "C" : kind == 1 ? "A" : kind == 2 ? "D" : "?";
        out += std::string(k) + " " + jstr(ch, "Path") + "\n";
      }
    std::cout << out;
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_logs() {
  struct Opts {
    bool follow = false, timestamps = false, details = false;
    std::string since, until, tail = "all";
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container");
  cmd->alias_paths = {"berth container logs", "berth logs"};
  cmd->flags.add_bool("details", 0, &o->details, "Show extra details provided to logs");
  cmd->flags.add_bool("follow", 'f', &o->follow, "Follow log output");
  cmd->flags.add_string("since", 0, &o->since,
                        "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative "
                        "(e.g. \"42m\" for 42 minutes)");
  cmd->flags.add_string("tail", 'n', &o->tail,
                        "Number of lines to show from the end of the logs");
  cmd->flags.add_bool("timestamps", 't', &o->timestamps, "Show timestamps");
  cmd->flags.add_string("until", 0, &o->until,
                        "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or "
                        "relative (e.g. \"42m\" for 42 minutes)");
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) {
    json::value c = inspect_container(ctx, args[0]);
    Query q;
    q.add("stdout", "1").add("stderr", "1");
    if (!o->since.empty()) q.add("since", api_timestamp(o->since));
    if (!o->until.empty()) q.add("until", api_timestamp(o->until));
    if (o->timestamps) q.add("timestamps", "1");
    if (o->details) q.add("details", "1");
    if (o->follow) q.add("follow", "1");
    q.add("tail", o->tail);
    auto resp = ctx.api().send(
        Request{.path = "/containers/" + jstr(c, "Id") + "/logs", .query = q});
    bool tty = jbool(c, "Config.Tty");
    std::string system_error;
    StdDemuxer demux([&](int stream, std::string_view p) {
      if (stream == 3) system_error.append(p);
      else write_fd(stream == 2 ? 2 : 1, p.data(), p.size());
    });
    std::cout.flush();
    std::string chunk;
    while (resp.read_some(chunk)) {
      if (tty) write_stdout(chunk);
      else demux.feed(chunk);
      chunk.clear();
    }
    if (!system_error.empty()) throw StatusError(system_error, 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_commit() {
  struct Opts {
    std::string author, message;
    std::vector<std::string> changes;
    bool pause = true;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                          "Create a new image from a container's changes");
  cmd->alias_paths = {"berth container commit", "berth commit"};
  cmd->flags.add_string("author", 'a', &o->author,
                        "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
  cmd->flags.add_list("change", 'c', &o->changes, "Apply Dockerfile instruction to the created image");
  cmd->flags.add_string("message", 'm', &o->message, "Commit message");
  cmd->flags.add_bool("pause", 'p', &o->pause, "Pause container during commit");
  cmd->min_args = 1;
  cmd->max_args = 2;
  cmd->run = [o](Context& ctx, const Args& args) {
    Query q;
    q.add("container", args[0]);
    if (args.size() > 1) {
      Reference ref;
      if (!Reference::parse(args[1], &ref)) throw StatusError("invalid reference format", 1);
      if (!ref.digest.empty()) throw StatusError("refusing to create a tag with a digest reference", 1);
      q.add("repo", ref.name());
      q.add("tag", ref.tag);
    } else {
      q.add("repo", "").add("tag", "");
    }
    q.add("comment", o->message).add("author", o->author);
    for (auto& c : o->changes) q.add("changes", c);
    if (!o->pause) q.add("pause", "0");
    json::value r = ctx.api().call_json(Request{.method = "POST", .path = "/commit", .query = q});
    std::cout << jstr(r, "Id") << "\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_update() {
  struct Opts {
    std::string memory, memory_swap, memory_reservation, cpuset_cpus, cpuset_mems, restart;
    double cpus = 0;
    long long cpu_shares = 0, pids_limit = 0, cpu_period = 0, cpu_quota = 0, blkio_weight = 0;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("update", "[OPTIONS] CONTAINER [CONTAINER...]",
                          "Update configuration of one or more containers");
  cmd->alias_paths = {"berth container update", "berth update"};
  auto& f = cmd->flags;
  f.add_int("blkio-weight", 0, &o->blkio_weight, "Block IO (relative weight), between 10 and 1000, or 0 to disable", "uint16");
  f.add_int("cpu-period", 0, &o->cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period");
  f.add_int("cpu-quota", 0, &o->cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota");
  f.add_int("cpu-shares", 'c', &o->cpu_shares, "CPU shares (relative weight)");
  f.add_double("cpus", 0, &o->cpus, "Number of CPUs");
  f.add_string("cpuset-cpus", 0, &o->cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
  f.add_string("cpuset-mems", 0, &o->cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)");
  f.add_string("memory", 'm', &o->memory, "Memory limit", "bytes");
  f.add_string("memory-reservation", 0, &o->memory_reservation, "Memory soft limit", "bytes");
  f.add_string("memory-swap", 0, &o->memory_swap, "Swap limit equal to memory plus swap: -1 to enable unlimited swap", "bytes");
  f.add_int("pids-limit", 0, &o->pids_limit, "Tune container pids limit (set -1 for unlimited)");
  f.add_string("restart", 0, &o->restart, "Restart policy to apply when a container exits");
  cmd->min_args = 1;
  Command* self = cmd.get();
  cmd->run = [o, self](Context& ctx, const Args& args) {
    auto& fl = self->flags;
    json::object body;
    auto bytes = [](const std::string& v) {
      int64_t n = v == "-1" ? -1 : ram_in_bytes(v);
      if (n < -1) throw StatusError("invalid size: '" + v + "'", 1);
      return n;
    };
    if (fl.changed("blkio-weight")) body["BlkioWeight"] = o->blkio_weight;
    if (fl.changed("cpu-period")) body["CpuPeriod"] = o->cpu_period;
    if (fl.changed("cpu-quota")) body["CpuQuota"] = o->cpu_quota;
    if (fl.changed("cpu-shares")) body["CpuShares"] = o->cpu_shares;
    if (fl.changed("cpus")) body["NanoCpus"] = static_cast<int64_t>(o->cpus * 1e9 + 0.5);
    if (fl.changed("cpuset-cpus")) body["CpusetCpus"] = o->cpuset_cpus;
    if (fl.changed("cpuset-mems")) body["CpusetMems"] = o->cpuset_mems;
    if (fl.changed("memory")) body["Memory"] = bytes(o->memory);
    if (fl.changed("memory-reservation")) body["MemoryReservation"] = bytes(o->memory_reservation);
    if (fl.changed("memory-swap")) body["MemorySwap"] = bytes(o->memory_swap);
    if (fl.changed("pids-limit")) body["PidsLimit"] = o->pids_limit;
    if (fl.changed("restart")) {
      auto [name, count] = split_once(o->restart, ':');
      body["RestartPolicy"] = json::object{{"Name", name},
                                           {"MaximumRetryCount", std::atoll(count.c_str())}};
    }
    if (body.empty()) throw StatusError("you must provide one or more flags when using this command", 1);
    std::vector<std::string> errs, warnings;
    for (auto& c : args) {
      try {
        json::value r = ctx.api().call_json(Request{.method = "POST",
                                                    .path = "/containers/" + path_escape(c) + "/update",
                                                    .body = json::serialize(body)});
        for (auto& w : jstrings(r, "Warnings")) warnings.push_back(w);
        std::cout << c << "\n";
      } catch (const ApiError& e) {
        errs.push_back(e.what());
      }
    }
    for (auto& w : warnings) std::cerr << w << "\n";
    if (!errs.empty()) throw StatusError(join(errs, "\n"), 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_export() {
  auto output = std::make_shared<std::string>();
  auto cmd = make_command("export", "[OPTIONS] CONTAINER",
                          "Export a container's filesystem as a tar archive");
  cmd->alias_paths = {"berth container export", "berth export"};
  cmd->flags.add_string("output", 'o', output.get(), "Write to a file, instead of STDOUT");
  cmd->exact_args(1);
  cmd->run = [output](Context& ctx, const Args& args) {
    if (output->empty() && ctx.stdout_is_tty())
      throw StatusError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1);
    auto resp = ctx.api().send(Request{.path = "/containers/" + path_escape(args[0]) + "/export"});
    int fd = 1;
    if (!output->empty()) {
      fd = ::open(output->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        throw StatusError("failed to export container: " + std::string(std::strerror(errno)), 1);
    }
    std::string chunk;
    while (resp.read_some(chunk)) {
      write_fd(fd, chunk.data(), chunk.size());
      chunk.clear();
    }
    if (fd != 1) ::close(fd);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_container_prune() {
  return make_prune_command({.summary = "Remove all stopped containers",
                             .warning = "WARNING! This will remove all stopped containers.\n"
                                        "Are you sure you want to continue?",
                             .path = "/containers/prune",
                             .deleted_key = "ContainersDeleted",
                             .deleted_title = "Deleted Containers:",
                             .reports_space = true});
}

// Untyped inspect: container, image, network, volume, (plugin); 404 moves on to the next.
std::unique_ptr<Command> make_inspect() {
  struct Opts {
    std::string format, type;
    bool size = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("inspect", "[OPTIONS] NAME|ID [NAME|ID...]",
                          "Return low-level information on Berth objects");
  cmd->flags.add_string("format", 'f', &o->format, kInspectFormatHelp);
  cmd->flags.add_bool("size", 's', &o->size, "Display total file sizes if the type is container");
  cmd->flags.add_string("type", 0, &o->type, "Only inspect objects of the given type");
  cmd->min_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    static const std::vector<std::string> kTypes = {"container", "image", "network", "volume",
                                                    "plugin"};
    if (!o->type.empty() && std::find(kTypes.begin(), kTypes.end(), o->type) == kTypes.end())
      throw StatusError("\"" + o->type + "\" is not a valid value for --type", 1);
    std::vector<std::string> raws, errors;
    for (auto& name : args) {
      bool found = false;
      for (auto& type : kTypes) {
        if (!o->type.empty() && type != o->type) continue;
        std::string path = type == "container" ? "/containers/" + path_escape(name) + "/json"
                           : type == "image"   ? "/images/" + path_escape(name) + "/json"
                           : type == "network" ? "/networks/" + path_escape(name)
                           : type == "volume"  ? "/volumes/" + path_escape(name)
                                               : "/plugins/" + path_escape(name) + "/json";
        Query q;
        if (type == "container" && o->size) q.add("size", "1");
        try {
          raws.push_back(ctx.api().call(Request{.path = path, .query = q}));
          found = true;
          break;
        } catch (const ApiError& e) {
          if (e.not_found() || e.message().find("not supported") != std::string::npos ||
              e.message().find("invalid reference format") != std::string::npos)
            continue;
          errors.push_back(e.what());
          found = true;
          break;
        }
      }
      if (!found) {
        errors.push_back(o->type.empty() ? "Error: No such object: " + name
                                         : "Error: No such " + o->type + ": " + name);
      }
    }
    print_inspect(raws, o->format);
    if (!errors.empty()) throw StatusError(join(errors, "\n"), 1);
    return 0;
  };
  return cmd;
}

}  // namespace

// Defined in run.cpp, exec.cpp, stats.cpp, cp.cpp.
std::unique_ptr<Command> make_run();
std::unique_ptr<Command> make_create();
std::unique_ptr<Command> make_start();
std::unique_ptr<Command> make_attach();
std::unique_ptr<Command> make_exec();
std::unique_ptr<Command> make_stats();
std::unique_ptr<Command> make_cp();

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
