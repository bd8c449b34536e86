// berth search: GET /images/search with the stored credentials of the registry the term names,
// shown as docker shows it (NAME, DESCRIPTION cut at 45 columns, STARS, OFFICIAL).
#include <boost/json.hpp>
#include <iostream>

#include "cli/client/docker_config.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/reference.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {
namespace {

namespace json = boost::json;

// The registry a term searches, by the daemon's rule (no upper-case exception: a search term is
// not a reference). Only the credentials to send depend on it.
std::string search_domain(const std::string& term) {
  std::string host = leading_domain(term, false);
  return host.empty() ? "docker.io" : host;
}

const json::object& search_header() {
  static const json::object h{{"Name", "NAME"},
                              {"Description", "DESCRIPTION"},
                              {"StarCount", "STARS"},
                              {"IsOfficial", "OFFICIAL"},
                              {"IsAutomated", "AUTOMATED"}};
  return h;
}

json::value search_row(const json::value& r, bool trunc) {
  std::string description = replace_all(replace_all(jstr(r, "description"), "\n", " "), "\r", " ");
  return json::object{{"Name", jstr(r, "name")},
                      {"Description", trunc ? ellipsis(description, 45) : description},
                      {"StarCount", std::to_string(jint(r, "star_count"))},
                      {"IsOfficial", jbool(r, "is_official") ? "[OK]" : ""},
                      {"IsAutomated", jbool(r, "is_automated") ? "[OK]" : ""}};
}

}  // namespace

std::unique_ptr<Command> make_search() {
  struct Opts {
    std::vector<std::string> filters;
    std::string format;
    long long limit = 0;
    bool no_trunc = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("search", "[OPTIONS] TERM", "Search Docker Hub for images");
  cmd->flags.add_list("filter", 'f', &o->filters, "Filter output based on conditions provided",
                      "filter");
  cmd->flags.add_string("format", 0, &o->format, "Pretty-print search using a Go template");
  cmd->flags.add_int("limit", 0, &o->limit, "Max number of search results");
  cmd->flags.add_bool("no-trunc", 0, &o->no_trunc, "Don't truncate output");
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) {
    Query q;
    q.add("term", args[0]);
    if (o->limit > 0) q.add("limit", std::to_string(o->limit));
    Filters f = parse_filters(o->filters);
    if (!f.empty()) q.add("filters", f.to_json());
    Request req{.method = "GET", .path = "/images/search", .query = q};
    req.headers.emplace_back("X-Registry-Auth", registry_auth_for(ctx.config_dir(), search_domain(args[0])));
    json::value results = ctx.api().call_json(req);
    std::vector<json::value> rows;
    if (results.is_array()) {
      for (const auto& r : results.get_array()) {
        if (r.is_object()) rows.push_back(search_row(r, !o->no_trunc));
      }
    }
    std::string format = o->format.empty() || o->format == "table"
                             ? "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
                             : o->format;
    std::cout << render_rows(format, rows, search_header());
    return 0;
  };
  return cmd;
}

}  // namespace berth::cli
