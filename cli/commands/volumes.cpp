// volume create/ls/inspect/rm/prune.
#include <boost/json.hpp>
#include <iostream>
#include <algorithm>
#include <memory>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/format/human.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

json::object volume_row(const json::value& v) {
  json::object r;
  r["Driver"] = jstr(v, "Driver");
  r["Name"] = jstr(v, "Name");
  r["Mountpoint"] = jstr(v, "Mountpoint");
  r["Scope"] = jstr(v, "Scope");
  std::vector<std::string> labels;
  if (auto* l = jfind(v, "Labels"); l && l->is_object())
    for (auto& kv : l->get_object()) labels.push_back(std::string(kv.key()) + "=" + jtext(kv.value()));
  std::sort(labels.begin(), labels.end());
  r["Labels"] = join(labels, ",");
  int64_t size = jint(v, "UsageData.Size", -1);
  r["Size"] = size == -1 ? "N/A" : human_size(static_cast<double>(size), 4);
  int64_t links = jint(v, "UsageData.RefCount", -1);
  r["Links"] = links == -1 ? "N/A" : std::to_string(links);
  r["Group"] = "";
  r["Availability"] = "N/A";
  r["Status"] = "N/A";
  return sorted_object(r);
}

std::unique_ptr<Command> make_volume_create() {
  struct Opts {
    std::string driver = "local", name;
    std::vector<std::string> opts, labels;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("create", "[OPTIONS] [VOLUME]", "Create a volume");
  cmd->flags.add_string("driver", 'd', &o->driver, "Specify volume driver name");
  cmd->flags.add_list("label", 0, &o->labels, "Set metadata for a volume");
  cmd->flags.add_string("name", 0, &o->name, "Specify volume name").hidden = true;
  cmd->flags.add_list("opt", 'o', &o->opts, "Set driver specific options", "map");
  cmd->max_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    std::string name = o->name;
    if (!args.empty()) {
      if (!name.empty() && name != args[0])
        throw StatusError("conflicting options: cannot specify a volume-name through both "
                          "--name and as a positional arg",
                          1);
      name = args[0];
    }
    json::object body;
    body["Driver"] = o->driver;
    if (!o->opts.empty()) {
      json::object d;
      for (auto& kv : o->opts) {
        auto [k, v] = split_once(kv, '=');
        d[k] = v;
      }
      body["DriverOpts"] = d;
    }
    if (!o->labels.empty()) {
      json::object l;
      for (auto& kv : o->labels) {
        auto [k, v] = split_once(kv, '=');
        l[k] = v;
      }
      body["Labels"] = l;
    }
    if (!name.empty()) body["Name"] = name;
    json::value v = ctx.api().call_json(
        Request{.method = "POST", .path = "/volumes/create", .body = json::serialize(body)});
    std::cout << jstr(v, "Name") << "\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_volume_ls() {
  struct Opts {
    bool quiet = false;
    std::string format;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("ls", "[OPTIONS]", "List volumes");
  cmd->aliases = {"list"};
  cmd->alias_paths = {"berth volume ls", "berth volume list"};
  cmd->flags.add_list("filter", 'f', &o->filters,
                      "Provide filter values (e.g. \"dangling=true\")", "filter");
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Only display volume names");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    Filters f = parse_filters(o->filters);
    Query q;
    if (!f.empty()) q.add("filters", f.to_json());
    json::value r = ctx.api().get_json("/volumes", q);
    std::vector<json::value> rows;
    if (auto* vs = jfind(r, "Volumes"); vs && vs->is_array()) {
      std::vector<json::value> sorted(vs->get_array().begin(), vs->get_array().end());
      // docker sorts volumes by name (case-insensitive natural order approximated).
      std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) {
        return to_lower(jstr(a, "Name")) < to_lower(jstr(b, "Name"));
      });
      for (auto& v : sorted) rows.push_back(volume_row(v));
    }
    std::string format = o->format.empty() || o->format == "table"
                             ? (o->quiet ? "{{.Name}}" : "table {{.Driver}}\t{{.Name}}")
                             : o->format;
    std::cout << render_rows(format, rows,
                             json::object{{"Driver", "DRIVER"}, {"Name", "VOLUME NAME"},
                                          {"Mountpoint", "MOUNTPOINT"}, {"Scope", "SCOPE"},
                                          {"Labels", "LABELS"}, {"Size", "SIZE"},
                                          {"Links", "LINKS"}, {"Group", "GROUP"},
                                          {"Availability", "AVAILABILITY"},
                                          {"Status", "STATUS"}});
    for (auto& w : jstrings(r, "Warnings")) std::cerr << w << "\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_volume_inspect() {
  auto format = std::make_shared<std::string>();
  auto cmd = make_command("inspect", "[OPTIONS] VOLUME [VOLUME...]",
                          "Display detailed information on one or more volumes");
  cmd->flags.add_string("format", 'f', format.get(), kInspectFormatHelp);
  cmd->min_args = 1;
  cmd->run = [format](Context& ctx, const Args& args) {
    std::vector<std::string> raws, errors;
    for (auto& n : args) {
      try {
        raws.push_back(ctx.api().call(Request{.path = "/volumes/" + path_escape(n)}));
      } catch (const ApiError& e) {
        errors.push_back(e.what());
      }
    }
    print_inspect(raws, *format);
    if (!errors.empty()) throw StatusError(join(errors, "\n"), 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_volume_rm() {
  auto force = std::make_shared<bool>(false);
  auto cmd = make_command("rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes");
  cmd->aliases = {"remove"};
  cmd->alias_paths = {"berth volume rm", "berth volume remove"};
  cmd->flags.add_bool("force", 'f', force.get(), "Force the removal of one or more volumes");
  cmd->min_args = 1;
  cmd->run = [force](Context& ctx, const Args& args) {
    std::vector<std::string> errors;
    for (auto& n : args) {
      try {
        Query q;
        if (*force) q.add("force", "1");
        ctx.api().call(Request{.method = "DELETE", .path = "/volumes/" + path_escape(n), .query = q});
        std::cout << n << "\n" << std::flush;
      } catch (const ApiError& e) {
        errors.push_back(e.what());
      }
    }
    if (!errors.empty()) throw StatusError(join(errors, "\n"), 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_volume_prune() {
  struct Opts {
    bool all = false, force = false;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("prune", "[OPTIONS]", "Remove unused local volumes");
  cmd->flags.add_bool("all", 'a', &o->all, "Remove all unused volumes, not just anonymous ones");
  cmd->flags.add_list("filter", 0, &o->filters, "Provide filter values (e.g. \"label=<label>\")",
                      "filter");
  cmd->flags.add_bool("force", 'f', &o->force, "Do not prompt for confirmation");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    Filters f = parse_filters(o->filters);
    bool new_api = compare_api_versions(ctx.api().api_version(), "1.42") >= 0;
    bool all_warning = !new_api || o->all;
    if (new_api && o->all) {
      if (f.contains("all"))
        throw StatusError("conflicting options: cannot specify both --all and --filter all=1", 1);
      f.add("all", "true");
    }
    if (!o->force) {
      std::string warning =
          all_warning ? "WARNING! This will remove all local volumes not used by at least one "
                        "container.\nAre you sure you want to continue?"
                      : "WARNING! This will remove anonymous local volumes not used by at least "
                        "one container.\nAre you sure you want to continue?";
      if (!confirm(warning)) return 0;
    }
    Query q;
    if (!f.empty()) q.add("filters", f.to_json());
    json::value r = ctx.api().call_json(Request{.method = "POST", .path = "/volumes/prune", .query = q});
    auto names = jstrings(r, "VolumesDeleted");
    int64_t reclaimed = 0;
    if (!names.empty()) {
      std::string out = "Deleted Volumes:\n";
      for (auto& n : names) out += n + "\n";
      std::cout << out << "\n";
      reclaimed = jint(r, "SpaceReclaimed");
    }
    std::cout << "Total reclaimed space: " << human_size(static_cast<double>(reclaimed), 4) << "\n";
    return 0;
  };
  return cmd;
}

}  // namespace

void register_volume_commands(Command& root) {
  auto& volume = root.add(make_command("volume", "", "Manage volumes"));
  volume.add(make_volume_create());
  volume.add(make_volume_inspect());
  volume.add(make_volume_ls());
  volume.add(make_volume_prune());
  volume.add(make_volume_rm());
}

}  // namespace berth::cli
