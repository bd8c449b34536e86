// The lifecycle verbs: `stop`, `restart`, `kill`, `pause`, `unpause`.
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

}  // namespace berth::cli
