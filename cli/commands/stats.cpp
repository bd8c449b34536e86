// berth stats: one stats stream per container, rendered every 500ms like docker.
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/stats.hpp"
#include "cli/format/formatter.hpp"
#include "cli/format/human.hpp"
#include "cli/stream/json_stream.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

StatsEntry compute_stats(const json::value& v) {
  StatsEntry e;
  e.id = jstr(v, "id");
  e.name = jstr(v, "name");
  double cpu_delta = jnum(v, "cpu_stats.cpu_usage.total_usage") -
                     jnum(v, "precpu_stats.cpu_usage.total_usage");
  double sys_delta = jnum(v, "cpu_stats.system_cpu_usage") - jnum(v, "precpu_stats.system_cpu_usage");
  double online = jnum(v, "cpu_stats.online_cpus");
  if (online == 0) {
    const json::value* per = jfind(v, "cpu_stats.cpu_usage.percpu_usage");
    online = per && per->is_array() ? static_cast<double>(per->get_array().size()) : 0;
  }
  if (sys_delta > 0 && cpu_delta > 0) e.cpu_percent = cpu_delta / sys_delta * online * 100.0;
  double usage = jnum(v, "memory_stats.usage");
  const json::value* v1 = jfind(v, "memory_stats.stats.total_inactive_file");
  const json::value* v2 = jfind(v, "memory_stats.stats.inactive_file");
  double mem = usage;
  if (v1 && jnum(v, "memory_stats.stats.total_inactive_file") < usage)
    mem = usage - jnum(v, "memory_stats.stats.total_inactive_file");
  else if (!v1 && v2 && jnum(v, "memory_stats.stats.inactive_file") < usage)
    mem = usage - jnum(v, "memory_stats.stats.inactive_file");
  e.memory = mem;
  e.memory_limit = jnum(v, "memory_stats.limit");
  e.memory_percent = e.memory_limit != 0 ? mem / e.memory_limit * 100.0 : 0;
  if (const json::value* nets = jfind(v, "networks"); nets && nets->is_object())
    for (auto& kv : nets->get_object()) {
      e.net_rx += jnum(kv.value(), "rx_bytes");
      e.net_tx += jnum(kv.value(), "tx_bytes");
    }
  if (const json::value* bio = jfind(v, "blkio_stats.io_service_bytes_recursive");
      bio && bio->is_array())
    for (auto& b : bio->get_array()) {
      std::string op = jstr(b, "op");
      if (op.empty()) continue;
      if (op[0] == 'r' || op[0] == 'R') e.block_read += jnum(b, "value");
      if (op[0] == 'w' || op[0] == 'W') e.block_write += jnum(b, "value");
    }
  e.pids = static_cast<uint64_t>(jint(v, "pids_stats.current"));
  e.valid = true;
  return e;
}

json::object stats_row(const StatsEntry& e, const std::string& container, bool trunc) {
  auto pct = [](double d) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f%%", d);
    return std::string(buf);
  };
  json::object r;
  r["Container"] = container;
  r["Name"] = e.name.size() > 1 ? e.name.substr(1) : "--";
  r["ID"] = trunc ? short_id(e.id) : e.id;
  r["CPUPerc"] = e.valid ? pct(e.cpu_percent) : "--";
  r["MemUsage"] = e.valid ? bytes_size(e.memory) + " / " + bytes_size(e.memory_limit) : "-- / --";
  r["MemPerc"] = e.valid ? pct(e.memory_percent) : "--";
  r["NetIO"] = e.valid ? human_size(e.net_rx, 3) + " / " + human_size(e.net_tx, 3) : "--";
  r["BlockIO"] =
      e.valid ? human_size(e.block_read, 3) + " / " + human_size(e.block_write, 3) : "--";
  r["PIDs"] = e.valid ? std::to_string(e.pids) : "--";
  return sorted_object(r);
}

namespace {

struct Tracked {
  std::string name;  // as given (or short ID)
  StatsEntry entry;
  bool done = false;
  std::string error;
};

}  // namespace

std::unique_ptr<Command> make_stats() {
  struct Opts {
    bool all = false, no_stream = false, no_trunc = false;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("stats", "[OPTIONS] [CONTAINER...]",
                          "Display a live stream of container(s) resource usage statistics");
  cmd->alias_paths = {"berth container stats", "berth stats"};
  cmd->flags.add_bool("all", 'a', &o->all, "Show all containers (default shows just running)");
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("no-stream", 0, &o->no_stream,
                      "Disable streaming stats and only pull the first result");
  cmd->flags.add_bool("no-trunc", 0, &o->no_trunc, "Do not truncate output");
  cmd->run = [o](Context& ctx, const Args& args) -> int {
    ApiClient& api = ctx.api();
    std::vector<std::string> names = args;
    if (names.empty()) {
      Query q;
      if (o->all) q.add("all", "1");
      json::value list = api.get_json("/containers/json", q);
      if (list.is_array())
        for (auto& c : list.get_array()) names.push_back(short_id(jstr(c, "Id")));
    }
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Tracked> tracked(names.size());
    std::vector<std::thread> threads;
    std::vector<std::unique_ptr<Response>> responses(names.size());
    std::atomic<bool> stopping{false};
    for (size_t i = 0; i < names.size(); ++i) {
      tracked[i].name = names[i];
      threads.emplace_back([&, i] {
        try {
          Request req{.path = "/containers/" + path_escape(names[i]) + "/stats",
                      .query = Query().add("stream", o->no_stream ? "0" : "1")};
          auto resp = std::make_unique<Response>(api.send(req));
          Response* r = resp.get();
          {
            std::lock_guard lock(mu);
            responses[i] = std::move(resp);
          }
          JsonStreamDecoder dec([&](json::value v) {
            std::lock_guard lock(mu);
            tracked[i].entry = compute_stats(v);
            tracked[i].done = true;
            cv.notify_all();
          });
          std::string chunk;
          while (!stopping && r->read_some(chunk)) {
            dec.feed(chunk);
            chunk.clear();
          }
        } catch (const ApiError& e) {
          std::lock_guard lock(mu);
          tracked[i].error = e.what();
          tracked[i].done = true;
          cv.notify_all();
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          if (!stopping) tracked[i].error = e.what();
          tracked[i].done = true;
          cv.notify_all();
        }
      });
    }
    std::string format = o->format.empty() || o->format == "table"
                             ? "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}"
                               "\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
                             : o->format;
    json::object header{{"Container", "CONTAINER"}, {"Name", "NAME"},
                        {"ID", "CONTAINER ID"},     {"CPUPerc", "CPU %"},
                        {"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"},
                        {"NetIO", "NET I/O"},       {"BlockIO", "BLOCK I/O"},
                        {"PIDs", "PIDS"}};
    auto render = [&] {
      std::vector<json::value> rows;
      std::lock_guard lock(mu);
      for (auto& t : tracked)
        if (t.error.empty()) rows.push_back(stats_row(t.entry, t.name, !o->no_trunc));
      return render_rows(format, rows, header);
    };
    int rc = 0;
    if (o->no_stream) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] {
        for (auto& t : tracked)
          if (!t.done) return false;
        return true;
      });
      std::vector<std::string> errors;
      for (auto& t : tracked)
        if (!t.error.empty()) errors.push_back(t.error);
      lock.unlock();
      if (!errors.empty()) {
        stopping = true;
        for (auto& th : threads) th.join();
        throw StatusError(join(errors, "\n"), 1);
      }
      std::cout << render() << std::flush;
    } else {
      while (true) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        std::string text = render();
        std::string out = "\x1b[H";
        for (auto& line : split(text, "\n")) out += line + "\x1b[K\n";
        out += "\x1b[J";
        std::cout << out << std::flush;
        std::lock_guard lock(mu);
        bool all_done = true;
        for (auto& t : tracked) {
          if (!t.error.empty()) {
            std::cerr << t.error << "\n";
            rc = 1;
          }
          if (!t.done || t.error.empty()) all_done = false;
        }
        if (rc) break;
        if (tracked.empty() || all_done) break;
      }
    }
    stopping = true;
    {
      std::lock_guard lock(mu);
      for (auto& r : responses)
        if (r) r->interrupt();
    }
    for (auto& th : threads) th.join();
    if (rc) throw StatusError("", rc);
    return 0;
  };
  return cmd;
}

}  // namespace berth::cli
