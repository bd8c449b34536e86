// berth plugin ls: berthd's own GET /plugins listing of loaded driver plugins.
#include <boost/json.hpp>
#include <iostream>
#include <memory>

#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

std::vector<json::value> plugin_rows(const json::value& list, bool trunc) {
  std::vector<json::value> rows;
  if (!list.is_array()) return rows;
  for (auto& p : list.get_array()) {
    json::object r;
    for (const char* k : {"Id", "Kind", "Name", "File", "Plugin", "Version", "Vendor", "Abi",
                          "State", "Reason", "Fix"})
      r[k] = jstr(p, k);
    r["ID"] = jstr(p, "Id");
    std::string reason = jstr(p, "Reason");
    // Reasons can be long (a loader refusal names files and ABIs); the table keeps one line.
    r["Reason"] = trunc ? ellipsis(replace_all(reason, "\n", " "), 60) : reason;
    rows.push_back(sorted_object(r));
  }
  return rows;
}

namespace {

std::unique_ptr<Command> make_plugin_ls() {
  struct Opts {
    std::string format;
    bool no_trunc = false, quiet = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("ls", "[OPTIONS]", "List the daemon's driver plugins");
  cmd->aliases = {"list"};
  cmd->alias_paths = {"berth plugin ls", "berth plugin list"};
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("no-trunc", 0, &o->no_trunc, "Don't truncate output");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Only display plugin IDs");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    json::value list = ctx.api().get_json("/plugins");
    std::string format = o->format.empty() ? "table" : o->format;
    if (format == "table")
      format = o->quiet ? "{{.ID}}"
                        : "table {{.ID}}\t{{.File}}\t{{.Version}}\t{{.State}}\t{{.Reason}}";
    std::cout << render_rows(format, plugin_rows(list, !o->no_trunc),
                             json::object{{"ID", "ID"}, {"Id", "ID"}, {"Kind", "KIND"},
                                          {"Name", "NAME"}, {"File", "FILE"},
                                          {"Plugin", "PLUGIN"}, {"Version", "VERSION"},
                                          {"Vendor", "VENDOR"}, {"Abi", "ABI"},
                                          {"State", "STATE"}, {"Reason", "REASON"},
                                          {"Fix", "FIX"}});
    return 0;
  };
  return cmd;
}

}  // namespace

void register_plugin_commands(Command& root) {
  auto& plugin = root.add(make_command("plugin", "", "Manage driver plugins"));
  plugin.add(make_plugin_ls());
}

}  // namespace berth::cli
