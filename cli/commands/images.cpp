// Image commands: images/image ls, image inspect, tag, rmi, history, image prune, pull, push.
// import, save and load are in image_archive.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "cli/app/errors.hpp"
#include "cli/client/docker_config.hpp"
#include "cli/client/registry_auth.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/images.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/format/human.hpp"
#include "cli/stream/json_stream.hpp"
#include "cli/stream/jsonmessage.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/reference.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Row building for `images` (exposed for tests).

std::vector<json::value> image_rows(const json::array& images, bool trunc, bool digests_needed,
                                    bool show_digests) {
  std::vector<json::value> rows;
  for (auto& img : images) {
    auto tags = jstrings(img, "RepoTags");
    auto digests = jstrings(img, "RepoDigests");
    auto base = [&](const std::string& repo, const std::string& tag, const std::string& digest) {
      json::object r;
      std::string id = jstr(img, "Id");
      int64_t created = jint(img, "Created");
      int64_t size = jint(img, "Size"), shared = jint(img, "SharedSize", -1);
      int64_t containers = jint(img, "Containers", -1);
      r["Containers"] = containers == -1 ? "N/A" : std::to_string(containers);
      r["CreatedAt"] = format_local_time(created);
      r["CreatedSince"] = created == 0 ? "" : time_ago(created);
      r["Digest"] = digest;
      r["ID"] = trunc ? short_id(id) : id;
      r["Repository"] = repo;
      r["SharedSize"] = shared == -1 ? "N/A" : human_size(static_cast<double>(shared), 4);
      r["Size"] = human_size(static_cast<double>(size), 3);
      r["Tag"] = tag;
      r["UniqueSize"] =
          size == -1 || shared == -1 ? "N/A" : human_size(static_cast<double>(size - shared), 4);
      r["VirtualSize"] = human_size(static_cast<double>(size), 4);
      rows.push_back(std::move(r));
    };
    bool dangling = (tags.empty() && digests.empty()) ||
                    (tags.size() == 1 && tags[0] == "<none>:<none>" && digests.size() == 1 &&
                     digests[0] == "<none>@<none>");
    if (dangling) {
      base("<none>", "<none>", "<none>");
      continue;
    }
    // Group tags and digests by familiar repository name, keeping the daemon's order.
    std::vector<std::pair<std::string, std::vector<std::string>>> repo_tags, repo_digests;
    auto slot = [](auto& vec, const std::string& key) -> std::vector<std::string>& {
      for (auto& [k, v] : vec)
        if (k == key) return v;
      vec.emplace_back(key, std::vector<std::string>{});
      return vec.back().second;
    };
    for (auto& t : tags) {
      Reference ref;
      if (!Reference::parse(t, &ref) || ref.tag.empty()) continue;
      slot(repo_tags, ref.familiar_name()).push_back(ref.tag);
    }
    for (auto& d : digests) {
      Reference ref;
      if (!Reference::parse(d, &ref) || ref.digest.empty()) continue;
      slot(repo_digests, ref.familiar_name()).push_back(ref.digest);
    }
    for (auto& [repo, ts] : repo_tags) {
      std::vector<std::string> ds;
      for (auto it = repo_digests.begin(); it != repo_digests.end(); ++it) {
        if (it->first == repo) {
          ds = it->second;
          repo_digests.erase(it);
          break;
        }
      }
      if (!digests_needed) ds.clear();
      for (auto& t : ts) {
        if (ds.empty()) {
          base(repo, t, "<none>");
          continue;
        }
        for (auto& d : ds) base(repo, t, d);
      }
    }
    for (auto& [repo, ds] : repo_digests) {
      if (show_digests) {
        for (auto& d : ds) base(repo, "<none>", d);
      } else {
        base(repo, "<none>", "");
      }
    }
  }
  return rows;
}

const json::object& image_header() {
  static const json::object h{
      {"Containers", "CONTAINERS"}, {"CreatedAt", "CREATED AT"}, {"CreatedSince", "CREATED"},
      {"Digest", "DIGEST"},         {"ID", "IMAGE ID"},          {"Repository", "REPOSITORY"},
      {"SharedSize", "SHARED SIZE"}, {"Size", "SIZE"},            {"Tag", "TAG"},
      {"UniqueSize", "UNIQUE SIZE"}, {"VirtualSize", "VIRTUAL SIZE"}};
  return h;
}

namespace {

// The stored credentials of the image's registry (config.json, or its credential helper).
std::string registry_auth_header(Context& ctx, const Reference& ref) {
  return registry_auth_for(ctx.config_dir(), ref.domain);
}


// ---------------------------------------------------------------------------------------------

std::unique_ptr<Command> make_image_ls() {
  struct Opts {
    bool all = false, quiet = false, digests = false, no_trunc = false;
    std::vector<std::string> filters;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("ls", "[OPTIONS] [REPOSITORY[:TAG]]", "List images");
  cmd->aliases = {"list"};
  cmd->alias_paths = {"berth image ls", "berth image list", "berth images"};
  cmd->flags.add_bool("all", 'a', &o->all, "Show all images (default hides intermediate images)");
  cmd->flags.add_bool("digests", 0, &o->digests, "Show digests");
  cmd->flags.add_list("filter", 'f', &o->filters, "Filter output based on conditions provided",
                      "filter");
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("no-trunc", 0, &o->no_trunc, "Don't truncate output");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Only show image IDs");
  cmd->max_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    Filters f = parse_filters(o->filters);
    if (!args.empty()) f.add("reference", args[0]);
    Query q;
    if (o->all) q.add("all", "1");
    if (!f.empty()) q.add("filters", f.to_json());
    json::value images = ctx.api().get_json("/images/json", q);
    std::string format = o->format.empty() ? "table" : o->format;
    if (format == "table") {
      if (o->quiet)
        format = "{{.ID}}";
      else if (o->digests)
        format =
            "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince "
            "}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
      else
        format =
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince "
            "}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
    } else if (is_table_format(format) && o->digests &&
               format.find("{{.Digest}}") == std::string::npos) {
      format += "\t{{.Digest}}";
    }
    bool need_digest = o->digests || format.find("{{.Digest}}") != std::string::npos;
    auto rows = image_rows(images.is_array() ? images.get_array() : json::array(), !o->no_trunc,
                           need_digest, o->digests);
    std::cout << render_rows(format, rows, image_header());
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_image_inspect() {
  auto format = std::make_shared<std::string>();
  auto cmd = make_command("inspect", "[OPTIONS] IMAGE [IMAGE...]",
                          "Display detailed information on one or more images");
  cmd->flags.add_string("format", 'f', format.get(), kInspectFormatHelp);
  cmd->min_args = 1;
  cmd->run = [format](Context& ctx, const Args& args) {
    std::vector<std::string> raws, errors;
    for (auto& name : args) {
      try {
        raws.push_back(ctx.api().call(Request{.path = "/images/" + path_escape(name) + "/json"}));
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

std::unique_ptr<Command> make_tag() {
  auto cmd = make_command("tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                          "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
  cmd->alias_paths = {"berth image tag", "berth tag"};
  cmd->interspersed = false;
  cmd->exact_args(2);
  cmd->run = [](Context& ctx, const Args& args) {
    Reference ref;
    if (!Reference::parse(args[1], &ref)) throw StatusError("invalid reference format", 1);
    if (!ref.digest.empty())
      throw StatusError("refusing to create a tag with a digest reference", 1);
    Query q;
    q.add("repo", ref.name());
    q.add("tag", ref.tag.empty() ? "latest" : ref.tag);
    ctx.api().call(Request{.method = "POST",
                           .path = "/images/" + path_escape(args[0]) + "/tag",
                           .query = q});
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_rmi() {
  struct Opts {
    bool force = false, no_prune = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("rm", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images");
  cmd->aliases = {"remove", "rmi"};
  cmd->alias_paths = {"berth image rm", "berth image remove", "berth rmi"};
  cmd->flags.add_bool("force", 'f', &o->force, "Force removal of the image");
  cmd->flags.add_bool("no-prune", 0, &o->no_prune, "Do not delete untagged parents");
  cmd->min_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    bool fatal = false;
    std::vector<std::string> errors;
    for (auto& img : args) {
      try {
        Query q;
        if (o->force) q.add("force", "1");
        if (o->no_prune) q.add("noprune", "1");
        json::value dels = ctx.api().call_json(
            Request{.method = "DELETE", .path = "/images/" + path_escape(img), .query = q});
        std::string out;
        if (dels.is_array())
          for (auto& d : dels.get_array()) {
            if (!jstr(d, "Deleted").empty()) out += "Deleted: " + jstr(d, "Deleted") + "\n";
            else out += "Untagged: " + jstr(d, "Untagged") + "\n";
          }
        std::cout << out << std::flush;
      } catch (const ApiError& e) {
        if (!e.not_found()) fatal = true;
        errors.push_back(e.what());
      }
    }
    if (!errors.empty()) {
      if (!o->force || fatal) throw StatusError(join(errors, "\n"), 1);
      std::cerr << join(errors, "\n") << "\n";
    }
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_history() {
  struct Opts {
    bool human = true, quiet = false, no_trunc = false;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("history", "[OPTIONS] IMAGE", "Show the history of an image");
  cmd->alias_paths = {"berth image history", "berth history"};
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("human", 'H', &o->human, "Print sizes and dates in human readable format");
  cmd->flags.add_bool("no-trunc", 0, &o->no_trunc, "Don't truncate output");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Only show image IDs");
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) {
    json::value hist = ctx.api().get_json("/images/" + path_escape(args[0]) + "/history");
    std::vector<json::value> rows;
    constexpr int64_t kEpoch2000 = 946684800;
    if (hist.is_array()) {
      for (auto& h : hist.get_array()) {
        json::object r;
        std::string id = jstr(h, "Id");
        int64_t created = jint(h, "Created");
        r["ID"] = o->no_trunc || id == "<missing>" ? id : short_id(id);
        time_t t = static_cast<time_t>(created);
        struct tm tm;
        localtime_r(&t, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
        std::string rfc = buf;
        if (rfc.size() > 5) rfc.insert(rfc.size() - 2, ":");
        if (tm.tm_gmtoff == 0) rfc = rfc.substr(0, rfc.size() - 6) + "Z";
        r["CreatedAt"] = rfc;
        r["CreatedSince"] = !o->human ? rfc : created <= kEpoch2000 ? "N/A" : time_ago(created);
        std::string by = replace_all(jstr(h, "CreatedBy"), "\t", " ");
        r["CreatedBy"] = o->no_trunc ? by : ellipsis(by, 45);
        r["Size"] = o->human ? human_size(jnum(h, "Size"), 3) : std::to_string(jint(h, "Size"));
        r["Comment"] = jstr(h, "Comment");
        rows.push_back(sorted_object(r));
      }
    }
    std::string format = o->format.empty() ? "table" : o->format;
    if (format == "table")
      format = o->quiet ? "{{.ID}}"
               : o->human ? "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t"
                            "{{.Comment}}"
                          : "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t"
                            "{{.Comment}}";
    std::cout << render_rows(format, rows,
                             json::object{{"ID", "IMAGE"}, {"CreatedSince", "CREATED"},
                                          {"CreatedAt", "CREATED AT"},
                                          {"CreatedBy", "CREATED BY"}, {"Size", "SIZE"},
                                          {"Comment", "COMMENT"}});
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_image_prune() {
  struct Opts {
    bool all = false, force = false;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("prune", "[OPTIONS]", "Remove unused images");
  cmd->flags.add_bool("all", 'a', &o->all, "Remove all unused images, not just dangling ones");
  cmd->flags.add_list("filter", 0, &o->filters,
                      "Provide filter values (e.g. \"until=<timestamp>\")", "filter");
  cmd->flags.add_bool("force", 'f', &o->force, "Do not prompt for confirmation");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    Filters f = parse_filters(o->filters);
    f.add("dangling", o->all ? "false" : "true");
    if (!o->force) {
      std::string warning =
          o->all ? "WARNING! This will remove all images without at least one container "
                   "associated to them.\nAre you sure you want to continue?"
                 : "WARNING! This will remove all dangling images.\nAre you sure you want to "
                   "continue?";
      if (!confirm(warning)) return 0;
    }
    json::value r = ctx.api().call_json(Request{
        .method = "POST", .path = "/images/prune", .query = Query().add("filters", f.to_json())});
    const json::value* del = jfind(r, "ImagesDeleted");
    int64_t reclaimed = 0;
    if (del && del->is_array() && !del->get_array().empty()) {
      std::string out = "Deleted Images:\n";
      for (auto& d : del->get_array()) {
        if (!jstr(d, "Untagged").empty()) out += "untagged: " + jstr(d, "Untagged") + "\n";
        else out += "deleted: " + jstr(d, "Deleted") + "\n";
      }
      std::cout << out << "\n";
      reclaimed = jint(r, "SpaceReclaimed");
    }
    std::cout << "Total reclaimed space: " << human_size(static_cast<double>(reclaimed), 4)
              << "\n";
    return 0;
  };
  return cmd;
}


}  // namespace

// Pulls `image` rendering progress to `fd` (stdout for pull, stderr for run/create).
void pull_image(Context& ctx, const std::string& image, const std::string& platform, int fd,
                bool quiet, bool all_tags) {
  Reference ref;
  if (!Reference::parse(image, &ref)) throw StatusError("invalid reference format", 1);
  Query q;
  q.add("fromImage", ref.name());
  if (!all_tags) q.add("tag", !ref.digest.empty() ? ref.digest : ref.tag.empty() ? "latest" : ref.tag);
  if (!platform.empty()) q.add("platform", platform);
  Request req{.method = "POST", .path = "/images/create", .query = q};
  req.headers.emplace_back("X-Registry-Auth", registry_auth_header(ctx, ref));
  auto resp = ctx.api().send(req);
  if (quiet) {
    JsonMessageRenderer r([](const std::string&) {}, false);
    JsonStreamDecoder dec([&](json::value v) { r.display(v); });
    std::string chunk;
    while (resp.read_some(chunk)) {
      dec.feed(chunk);
      chunk.clear();
    }
    dec.finish();
    return;
  }
  display_json_stream(resp, fd, ::isatty(fd) == 1);
}

namespace {

std::unique_ptr<Command> make_pull() {
  struct Opts {
    bool all = false, quiet = false;
    std::string platform;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("pull", "[OPTIONS] NAME[:TAG|@DIGEST]",
                          "Download an image from a registry");
  cmd->alias_paths = {"berth image pull", "berth pull"};
  cmd->flags.add_bool("all-tags", 'a', &o->all, "Download all tagged images in the repository");
  cmd->flags.add_string("platform", 0, &o->platform, "Set platform if server is multi-platform capable");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Suppress verbose output");
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) {
    Reference ref;
    if (!Reference::parse(args[0], &ref)) throw StatusError("invalid reference format", 1);
    std::string shown = args[0];
    if (!o->all && ref.tag.empty() && ref.digest.empty()) {
      std::cout << "Using default tag: latest\n" << std::flush;
      ref.tag = "latest";
    }
    try {
      pull_image(ctx, ref.familiar_string(), o->platform, 1, o->quiet, o->all);
    } catch (const JsonMessageError& e) {
      throw StatusError(e.what(), 1);
    }
    std::cout << (o->all ? ref.familiar_name() : ref.familiar_string()) << "\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_push() {
  struct Opts {
    bool all = false, quiet = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("push", "[OPTIONS] NAME[:TAG]", "Upload an image to a registry");
  cmd->alias_paths = {"berth image push", "berth push"};
  cmd->flags.add_bool("all-tags", 'a', &o->all, "Push all tags of an image to the repository");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Suppress verbose output");
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) {
    Reference ref;
    if (!Reference::parse(args[0], &ref)) throw StatusError("invalid reference format", 1);
    if (!o->all && ref.tag.empty()) {
      std::cout << "Using default tag: latest\n" << std::flush;
      ref.tag = "latest";
    }
    Query q;
    if (!o->all) q.add("tag", ref.tag);
    Request req{.method = "POST", .path = "/images/" + ref.name() + "/push", .query = q};
    req.headers.emplace_back("X-Registry-Auth", registry_auth_header(ctx, ref));
    auto resp = ctx.api().send(req);
    try {
      if (o->quiet) {
        resp.read_all();
        std::cout << ref.familiar_string() << "\n";
      } else {
        display_json_stream(resp, 1, ctx.stdout_is_tty());
      }
    } catch (const JsonMessageError& e) {
      throw StatusError(e.what(), 1);
    }
    return 0;
  };
  return cmd;
}

}  // namespace

void register_image_commands(Command& root) {
  auto& image = root.add(make_command("image", "", "Manage images"));
  add_with_shortcut(image, root, make_image_ls, "images");
  image.add(make_image_inspect());
  add_with_shortcut(image, root, make_tag, "tag");
  add_with_shortcut(image, root, make_rmi, "rmi");
  add_with_shortcut(image, root, make_history, "history");
  image.add(make_image_prune());
  add_with_shortcut(image, root, make_import, "import");
  add_with_shortcut(image, root, make_save, "save");
  add_with_shortcut(image, root, make_load, "load");
  add_with_shortcut(image, root, make_pull, "pull");
  add_with_shortcut(image, root, make_push, "push");
  add_with_shortcut(image, root, make_build_command, "build");
  root.add(make_builder_command());
}

}  // namespace berth::cli
