// `ps` / `container ls`, `container inspect` and the untyped `inspect`.
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

}  // namespace berth::cli
