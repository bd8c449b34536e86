// Waiting for and removing containers: `wait`, `rm`, `container prune`.
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

}  // namespace berth::cli
