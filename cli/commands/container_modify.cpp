// Changing a container or making an image of it: `rename`, `update`, `commit`, `export`.
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

}  // namespace berth::cli
