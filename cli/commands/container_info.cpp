// What a container shows: `top`, `port`, `diff`, `logs`.
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

}  // namespace berth::cli
