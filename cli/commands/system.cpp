// berth events, system df, system prune; registers the system group (version and info are in
// system_info.cpp).
#include <boost/json.hpp>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/format/human.hpp"
#include "cli/format/json_text.hpp"
#include "cli/format/tabwriter.hpp"
#include "cli/format/template.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"
#include "cli/commands/system_commands.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------------------------
// events

std::string render_event(const json::value& ev) {
  std::string s;
  int64_t nano = jint(ev, "timeNano");
  int64_t sec = jint(ev, "time");
  if (nano) s += format_rfc3339_nano(nano, true) + " ";
  else if (sec) s += format_rfc3339_nano(sec * 1000000000LL, true) + " ";
  s += jstr(ev, "Type") + " " + jstr(ev, "Action") + " " + jstr(ev, "Actor.ID");
  if (auto* attrs = jfind(ev, "Actor.Attributes"); attrs && attrs->is_object() &&
                                                    !attrs->get_object().empty()) {
    std::vector<std::string> kv;
    for (auto& a : attrs->get_object())
      kv.push_back(std::string(a.key()) + "=" + jtext(a.value()));
    std::sort(kv.begin(), kv.end());
    s += " (" + join(kv, ", ") + ")";
  }
  return s + "\n";
}

std::unique_ptr<Command> make_events() {
  struct Opts {
    std::string since, until, format;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("events", "[OPTIONS]", "Get real time events from the server");
  cmd->flags.add_list("filter", 'f', &o->filters, "Filter output based on conditions provided",
                      "filter");
  cmd->flags.add_string("format", 0, &o->format,
                        "Format output using a custom template:\n'json':             Print in "
                        "JSON format\n'TEMPLATE':         Print output using the given Go "
                        "template.");
  cmd->flags.add_string("since", 0, &o->since, "Show all events created since timestamp");
  cmd->flags.add_string("until", 0, &o->until, "Stream events until this timestamp");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    Query q;
    Filters f = parse_filters(o->filters);
    if (!o->since.empty()) q.add("since", api_timestamp(o->since));
    if (!o->until.empty()) q.add("until", api_timestamp(o->until));
    if (!f.empty()) q.add("filters", f.to_json());
    Template t;
    bool templ = !o->format.empty();
    if (templ) {
      try {
        t = Template::parse(o->format == "json" ? "{{json .}}" : o->format);
      } catch (const TemplateError& e) {
        throw StatusError(std::string("template parsing error: ") + e.what(), 64);
      }
    }
    auto resp = ctx.api().send(Request{.path = "/events", .query = q});
    std::string buf, chunk;
    json::stream_parser parser;
    while (resp.read_some(chunk)) {
      buf += chunk;
      chunk.clear();
      // One JSON object per line (any whitespace between objects is accepted).
      size_t start = 0;
      while (true) {
        size_t nl = buf.find('\n', start);
        if (nl == std::string::npos) break;
        std::string line_text = trim(std::string_view(buf).substr(start, nl - start));
        start = nl + 1;
        if (line_text.empty()) continue;
        json::value ev = parse_json(line_text);
        std::string out = templ ? t.execute(ev) + "\n" : render_event(ev);
        std::cout << out << std::flush;
      }
      buf.erase(0, start);
    }
    if (!trim(buf).empty()) {
      json::value ev = parse_json(trim(buf));
      std::cout << (templ ? t.execute(ev) + "\n" : render_event(ev)) << std::flush;
    }
    return 0;
  };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// system df

std::string reclaim_text(int64_t reclaimable, int64_t total) {
  if (total > 0)
    return human_size(static_cast<double>(reclaimable), 4) + " (" +
           std::to_string(reclaimable * 100 / total) + "%)";
  return human_size(static_cast<double>(reclaimable), 4);
}

std::unique_ptr<Command> make_df() {
  struct Opts {
    bool verbose = false;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("df", "[OPTIONS]", "Show docker disk usage");
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("verbose", 'v', &o->verbose, "Show detailed information on space usage");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    json::value df = ctx.api().get_json("/system/df");
    auto arr = [&](const char* k) {
      const json::value* v = jfind(df, k);
      return v && v->is_array() ? v->get_array() : json::array();
    };
    json::array images = arr("Images"), containers = arr("Containers"), volumes = arr("Volumes"),
                cache = arr("BuildCache");
    std::vector<json::value> rows;
    {
      int64_t total = jint(df, "LayersSize"), used = 0, active = 0;
      for (auto& i : images) {
        if (jint(i, "Containers") > 0) ++active;
        if (jint(i, "Containers") != 0 && jint(i, "Size") != -1 && jint(i, "SharedSize") != -1)
          used += jint(i, "Size") - jint(i, "SharedSize");
      }
      rows.push_back(json::object{{"Type", "Images"},
                                  {"TotalCount", std::to_string(images.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(total), 4)},
                                  {"Reclaimable", reclaim_text(total - used, total)}});
    }
    {
      int64_t size = 0, reclaim = 0, active = 0;
      for (auto& c : containers) {
        std::string st = jstr(c, "State");
        bool is_active = st == "running" || st == "paused" || st == "restarting";
        if (is_active) ++active;
        else reclaim += jint(c, "SizeRw");
        size += jint(c, "SizeRw");
      }
      rows.push_back(json::object{{"Type", "Containers"},
                                  {"TotalCount", std::to_string(containers.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(size), 4)},
                                  {"Reclaimable", reclaim_text(reclaim, size)}});
    }
    {
      int64_t size = 0, reclaim = 0, active = 0;
      for (auto& v : volumes) {
        if (jint(v, "UsageData.RefCount") > 0) ++active;
        int64_t sz = jint(v, "UsageData.Size", -1);
        if (sz != -1) {
          if (jint(v, "UsageData.RefCount") == 0) reclaim += sz;
          size += sz;
        }
      }
      rows.push_back(json::object{{"Type", "Local Volumes"},
                                  {"TotalCount", std::to_string(volumes.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(size), 4)},
                                  {"Reclaimable", reclaim_text(reclaim, size)}});
    }
    {
      int64_t active = 0, in_use = 0, size = jint(df, "BuilderSize");
      for (auto& b : cache) {
        if (jbool(b, "InUse")) {
          ++active;
          if (!jbool(b, "Shared")) in_use += jint(b, "Size");
        }
      }
      rows.push_back(json::object{{"Type", "Build Cache"},
                                  {"TotalCount", std::to_string(cache.size())},
                                  {"Active", std::to_string(active)},
                                  {"Size", human_size(static_cast<double>(size), 4)},
                                  {"Reclaimable",
                                   human_size(static_cast<double>(size - in_use), 4)}});
    }
    if (o->verbose) {
      std::string out = "Images space usage:\n\n";
      std::vector<json::value> irows;
      for (auto& i : images) {
        auto tags = jstrings(i, "RepoTags");
        std::string repo = "<none>", tag = "<none>";
        if (!tags.empty() && tags[0] != "<none>:<none>") {
          auto pos = tags[0].rfind(':');
          repo = tags[0].substr(0, pos);
          tag = tags[0].substr(pos + 1);
        }
        int64_t size = jint(i, "Size"), shared = jint(i, "SharedSize");
        irows.push_back(json::object{
            {"Repository", repo}, {"Tag", tag}, {"ID", short_id(jstr(i, "Id"))},
            {"CreatedSince", time_ago(jint(i, "Created"))},
            {"Size", human_size(static_cast<double>(size), 3)},
            {"SharedSize", shared == -1 ? "N/A" : human_size(static_cast<double>(shared), 4)},
            {"UniqueSize",
             shared == -1 ? "N/A" : human_size(static_cast<double>(size - shared), 4)},
            {"Containers", std::to_string(jint(i, "Containers"))}});
      }
      out += render_rows(
          "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
          "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
          irows,
          json::object{{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"},
                       {"CreatedSince", "CREATED"}, {"Size", "SIZE"},
                       {"SharedSize", "SHARED SIZE"}, {"UniqueSize", "UNIQUE SIZE"},
                       {"Containers", "CONTAINERS"}});
      out += "\nContainers space usage:\n\n";
      std::vector<json::value> crows;
      for (auto& c : containers) {
        auto names = jstrings(c, "Names");
        std::string name = names.empty() ? "" : names[0].substr(names[0].starts_with("/"));
        crows.push_back(json::object{
            {"ID", short_id(jstr(c, "Id"))}, {"Image", jstr(c, "Image")},
            {"Command", go_quote(ellipsis(jstr(c, "Command"), 20))},
            {"LocalVolumes", "0"},
            {"Size", human_size(jnum(c, "SizeRw"), 4)},
            {"RunningFor", time_ago(jint(c, "Created"))}, {"Status", jstr(c, "Status")},
            {"Names", name}});
      }
      out += render_rows(
          "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
          "{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
          crows,
          json::object{{"ID", "CONTAINER ID"}, {"Image", "IMAGE"}, {"Command", "COMMAND"},
                       {"LocalVolumes", "LOCAL VOLUMES"}, {"Size", "SIZE"},
                       {"RunningFor", "CREATED"}, {"Status", "STATUS"}, {"Names", "NAMES"}});
      out += "\nLocal Volumes space usage:\n\n";
      std::vector<json::value> vrows;
      for (auto& v : volumes) {
        int64_t sz = jint(v, "UsageData.Size", -1);
        vrows.push_back(json::object{
            {"Name", jstr(v, "Name")},
            {"Links", std::to_string(jint(v, "UsageData.RefCount"))},
            {"Size", sz == -1 ? "N/A" : human_size(static_cast<double>(sz), 4)}});
      }
      out += render_rows("table {{.Name}}\t{{.Links}}\t{{.Size}}", vrows,
                         json::object{{"Name", "VOLUME NAME"}, {"Links", "LINKS"},
                                      {"Size", "SIZE"}});
      out += "\nBuild cache usage: " +
             human_size(static_cast<double>(jint(df, "BuilderSize")), 4) + "\n\n";
      out += render_rows(
          "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
          "{{.UsageCount}}\t{{.Shared}}",
          {},
          json::object{{"ID", "CACHE ID"}, {"CacheType", "CACHE TYPE"}, {"Size", "SIZE"},
                       {"CreatedSince", "CREATED"}, {"LastUsedSince", "LAST USED"},
                       {"UsageCount", "USAGE"}, {"Shared", "SHARED"}});
      std::cout << out;
      return 0;
    }
    std::string format = o->format.empty() ? "table" : o->format;
    if (format == "table")
      format = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
    for (auto& r : rows) r = sorted_object(r.as_object());
    std::cout << render_rows(format, rows,
                             json::object{{"Type", "TYPE"}, {"TotalCount", "TOTAL"},
                                          {"Active", "ACTIVE"}, {"Size", "SIZE"},
                                          {"Reclaimable", "RECLAIMABLE"}});
    return 0;
  };
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// system prune

std::unique_ptr<Command> make_system_prune() {
  struct Opts {
    bool all = false, force = false, volumes = false;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("prune", "[OPTIONS]", "Remove unused data");
  cmd->flags.add_bool("all", 'a', &o->all, "Remove all unused images not just dangling ones");
  cmd->flags.add_list("filter", 0, &o->filters, "Provide filter values (e.g. \"label=<key>=<value>\")",
                      "filter");
  cmd->flags.add_bool("force", 'f', &o->force, "Do not prompt for confirmation");
  cmd->flags.add_bool("volumes", 0, &o->volumes, "Prune anonymous volumes");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    if (!o->force) {
      std::string warning = "WARNING! This will remove:\n  - all stopped containers\n"
                            "  - all networks not used by at least one container\n";
      if (o->volumes) warning += "  - all anonymous volumes not used by at least one container\n";
      warning += o->all ? "  - all images without at least one container associated to them\n"
                        : "  - all dangling images\n";
      warning += "  - unused build cache\n\nAre you sure you want to continue?";
      if (!confirm(warning)) return 0;
    }
    Filters base = parse_filters(o->filters);
    auto with_filters = [&](Filters f) {
      Query q;
      if (!f.empty()) q.add("filters", f.to_json());
      return q;
    };
    ApiClient& api = ctx.api();
    int64_t reclaimed = 0;
    std::string out;
    // containers
    {
      auto r = api.call_json(
          Request{.method = "POST", .path = "/containers/prune", .query = with_filters(base)});
      auto ids = jstrings(r, "ContainersDeleted");
      if (!ids.empty()) {
        out += "Deleted Containers:\n";
        for (auto& id : ids) out += id + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    {
      auto r = api.call_json(
          Request{.method = "POST", .path = "/networks/prune", .query = with_filters(base)});
      auto names = jstrings(r, "NetworksDeleted");
      if (!names.empty()) {
        out += "Deleted Networks:\n";
        for (auto& n : names) out += n + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
    }
    if (o->volumes) {
      Filters vf = base;
      if (compare_api_versions(api.api_version(), "1.42") >= 0 && o->all) vf.add("all", "true");
      auto r = api.call_json(
          Request{.method = "POST", .path = "/volumes/prune", .query = with_filters(vf)});
      auto names = jstrings(r, "VolumesDeleted");
      if (!names.empty()) {
        out += "Deleted Volumes:\n";
        for (auto& n : names) out += n + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    {
      Filters f = base;
      f.add("dangling", o->all ? "false" : "true");
      auto r = api.call_json(
          Request{.method = "POST", .path = "/images/prune", .query = with_filters(f)});
      const json::value* del = jfind(r, "ImagesDeleted");
      if (del && del->is_array() && !del->get_array().empty()) {
        out += "Deleted Images:\n";
        for (auto& d : del->get_array()) {
          if (!jstr(d, "Untagged").empty()) out += "untagged: " + jstr(d, "Untagged") + "\n";
          else out += "deleted: " + jstr(d, "Deleted") + "\n";
        }
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    {
      Query q;
      q.add("filters", base.empty() ? "" : base.to_json());
      if (o->all) q.add("all", "1");
      auto r = api.call_json(Request{.method = "POST", .path = "/build/prune", .query = q});
      auto ids = jstrings(r, "CachesDeleted");
      if (!ids.empty()) {
        out += "Deleted build cache objects:\n";
        for (auto& id : ids) out += id + "\n";
        out += "\n";
      }
      std::cout << out << std::flush;
      out.clear();
      reclaimed += jint(r, "SpaceReclaimed");
    }
    std::cout << out << "Total reclaimed space: " << human_size(static_cast<double>(reclaimed), 4)
              << "\n";
    return 0;
  };
  return cmd;
}

}  // namespace

void register_system_commands(Command& root) {
  root.add(make_version());
  root.add(make_info());
  root.add(make_events());
  auto system = make_command("system", "", "Manage Berth");
  auto& sys = root.add(std::move(system));
  sys.add(make_df());
  sys.add(make_events());
  sys.add(make_info());
  sys.add(make_system_prune());
  sys.add(make_dial_stdio());
}

}  // namespace berth::cli
