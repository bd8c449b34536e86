// berth search: GET /images/search with the stored credentials of the registry the term names,
// shown as docker shows it (NAME, DESCRIPTION cut at 45 columns, STARS, OFFICIAL).
#include <boost/json.hpp>
#include <iostream>

#include "cli/client/docker_config.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {
namespace {

namespace json = boost::json;

// The registry a term searches, by the daemon's rule: "host/..." when host has a dot or a colon
// or is localhost, else Docker Hub. Only the credentials to send depend on it.
std::string search_domain(const std::string& term) {
  auto slash = term.find('/');
  if (slash == std::string::npos) return "docker.io";
  std::string first = term.substr(0, slash);
  if (first.find_first_of(".:") != std::string::npos || first == "localhost") return first;
  return "docker.io";
}

const json::object& search_header() {
  static const json::object h{{"Name", "NAME"},
                              {"Description", "DESCRIPTION"},
                              {"StarCount", "STARS"},
                              {"IsOfficial", "OFFICIAL"},
                              {"IsAutomated", "AUTOMATED"}};
  return h;
}

std::string text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool flag(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

json::value search_row(const json::object& r, bool trunc) {
  std::string description = replace_all(replace_all(text(r, "description"), "\n", " "), "\r", " ");
  int64_t stars = 0;
  if (const auto* s = r.if_contains("star_count"); s && s->is_int64()) stars = s->get_int64();
  return json::object{{"Name", text(r, "name")},
                      {"Description", trunc ? ellipsis(description, 45) : description},
                      {"StarCount", std::to_string(stars)},
                      {"IsOfficial", flag(r, "is_official") ? "[OK]" : ""},
                      {"IsAutomated", flag(r, "is_automated") ? "[OK]" : ""}};
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
        if (r.is_object()) rows.push_back(search_row(r.get_object(), !o->no_trunc));
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
