// context create/ls/use/show/inspect/rm/export/import: named daemon endpoints stored under the
// config folder (client/context_store.hpp), chosen with --context, BERTH_CONTEXT or `use`.
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"
#include "cli/format/formatter.hpp"
#include "cli/util/files.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

std::string read_pem(const std::string& path, const std::string& what) {
  auto data = read_file_if_exists(path);
  if (!data) throw StatusError("cannot read the " + what + " " + path + ": no such file", 1);
  if (data->find("-----BEGIN ") == std::string::npos)
    throw StatusError(path + " is not a PEM file (" + what + ")", 1);
  return *data;
}

struct CreateOptions {
  std::string description;
  std::vector<std::string> docker;  // docker's --docker "host=...,ca=...,cert=...,key=..."
  std::string host;                 // berth's shorthand for --docker host=...
  std::string ca, cert, key;
  bool skip_tls_verify = false;
};

// Parses docker's --docker value: comma-separated key=value pairs.
void apply_docker_spec(const std::string& spec, CreateOptions& o) {
  for (const auto& field : split(spec, ",")) {
    bool found = false;
    auto [k, v] = split_once(field, '=', &found);
    std::string key = to_lower(trim(k));
    if (!found)
      throw StatusError("invalid --docker field \"" + field + "\": expected key=value", 1);
    if (key == "host")
      o.host = v;
    else if (key == "ca")
      o.ca = v;
    else if (key == "cert")
      o.cert = v;
    else if (key == "key")
      o.key = v;
    else if (key == "skip-tls-verify")
      o.skip_tls_verify = v == "true" || v == "1";
    else if (key == "description")
      o.description = v;
    else
      throw StatusError("unrecognized config key: " + key +
                            " (--docker takes host, ca, cert, key, skip-tls-verify)",
                        1);
  }
}

void add_endpoint_flags(Command& cmd, CreateOptions& o) {
  cmd.flags.add_string("description", 0, &o.description, "Description of the context");
  cmd.flags.add_list("docker", 0, &o.docker,
                     "set the docker endpoint (host=ADDRESS,ca=FILE,cert=FILE,key=FILE,"
                     "skip-tls-verify=BOOL)",
                     "stringToString");
  cmd.flags.add_string(
      "host", 0, &o.host,
      "Daemon address: unix:///path, tcp://host:port or ssh://[user@]host[:port][/socket]");
  cmd.flags.add_string("tlscacert", 0, &o.ca, "CA that signed the daemon's certificate (copied)");
  cmd.flags.add_string("tlscert", 0, &o.cert, "Client certificate (copied)");
  cmd.flags.add_string("tlskey", 0, &o.key, "Client key (copied, 0600)");
  cmd.flags.add_bool("skip-tls-verify", 0, &o.skip_tls_verify,
                     "Use TLS without checking the daemon's certificate");
}

// The endpoint the options describe: its address checked, its TLS files read.
std::pair<ContextMeta, ContextTls> endpoint_from(const CreateOptions& opts,
                                                 const std::string& name) {
  if ((opts.cert.empty()) != (opts.key.empty()))
    throw StatusError("a client certificate needs both cert and key", 1);
  ContextTls tls;
  if (!opts.ca.empty()) tls.ca = read_pem(opts.ca, "CA certificate");
  if (!opts.cert.empty()) tls.cert = read_pem(opts.cert, "client certificate");
  if (!opts.key.empty()) tls.key = read_pem(opts.key, "client key");
  Address address = Address::parse(opts.host, !tls.empty() || opts.skip_tls_verify);
  if (address.kind != Address::Kind::kTcp && (!tls.empty() || opts.skip_tls_verify))
    throw StatusError("TLS material applies to tcp:// addresses only, not " + opts.host, 1);
  return {ContextMeta{.name = name,
                      .description = opts.description,
                      .host = opts.host,
                      .skip_tls_verify = opts.skip_tls_verify},
          tls};
}

std::unique_ptr<Command> make_context_create() {
  auto o = std::make_shared<CreateOptions>();
  auto cmd = make_command("create", "[OPTIONS] CONTEXT", "Create a context");
  add_endpoint_flags(*cmd, *o);
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) {
    CreateOptions opts = *o;
    for (const auto& spec : o->docker) apply_docker_spec(spec, opts);
    const std::string& name = args[0];
    ContextStore::validate_name(name);
    ContextStore store = ctx.store();
    if (store.get(name)) throw StatusError("context \"" + name + "\" already exists", 1);
    if (opts.host.empty())
      throw StatusError(
          "berth context create needs the daemon's address: --host ADDRESS or "
          "--docker host=ADDRESS[,ca=FILE,cert=FILE,key=FILE]",
          1);
    auto [meta, tls] = endpoint_from(opts, name);
    store.save(meta, tls);
    std::cout << name << "\n";
    std::cerr << "Successfully created context \"" << name << "\"\n";
    return 0;
  };
  return cmd;
}

// --docker replaces the endpoint and its TLS material, as in docker; --host, --tls* and
// --skip-tls-verify change only what they name; --description alone keeps the endpoint.
std::unique_ptr<Command> make_context_update() {
  auto o = std::make_shared<CreateOptions>();
  auto cmd = make_command("update", "[OPTIONS] CONTEXT", "Update a context");
  add_endpoint_flags(*cmd, *o);
  cmd->exact_args(1);
  cmd->run = [o, c = cmd.get()](Context& ctx, const Args& args) {
    const std::string& name = args[0];
    ContextStore store = ctx.store();
    auto old = store.get(name);
    if (!old) throw StatusError("context \"" + name + "\" does not exist", 1);
    CreateOptions opts = *o;
    for (const auto& spec : o->docker) apply_docker_spec(spec, opts);
    if (!c->flags.changed("description") && opts.description.empty())
      opts.description = old->description;
    if (!o->docker.empty()) {
      if (opts.host.empty()) opts.host = old->host;
      auto [meta, tls] = endpoint_from(opts, name);
      store.save(meta, tls);
    } else {
      ContextMeta meta = *old;
      meta.description = opts.description;
      if (!opts.host.empty()) meta.host = opts.host;
      if (c->flags.changed("skip-tls-verify")) meta.skip_tls_verify = opts.skip_tls_verify;
      ContextTls tls;
      for (const auto& [file, path] : store.tls_files(name))
        (file == "ca.pem"     ? tls.ca
         : file == "cert.pem" ? tls.cert
                              : tls.key) = read_file_if_exists(path).value_or("");
      if (!opts.ca.empty()) tls.ca = read_pem(opts.ca, "CA certificate");
      if (!opts.cert.empty()) tls.cert = read_pem(opts.cert, "client certificate");
      if (!opts.key.empty()) tls.key = read_pem(opts.key, "client key");
      if (tls.cert.empty() != tls.key.empty())
        throw StatusError("a client certificate needs both cert and key", 1);
      Address address = Address::parse(meta.host, !tls.empty() || meta.skip_tls_verify);
      if (address.kind != Address::Kind::kTcp && (!tls.empty() || meta.skip_tls_verify))
        throw StatusError("TLS material applies to tcp:// addresses only, not " + meta.host, 1);
      store.save(meta, tls);
    }
    std::cout << name << "\n";
    std::cerr << "Successfully updated context \"" << name << "\"\n";
    return 0;
  };
  return cmd;
}

struct LsOptions {
  std::string format;
  bool quiet = false;
};

std::unique_ptr<Command> make_context_ls() {
  auto o = std::make_shared<LsOptions>();
  auto cmd = make_command("ls", "[OPTIONS]", "List contexts");
  cmd->aliases = {"list"};
  cmd->flags.add_string(
      "format", 0, &o->format,
      "Format output using a custom template:\n'table':            Print output in "
      "table format with column headers (default)\n'table TEMPLATE':   Print "
      "output in table format using the given Go template\n'json':             "
      "Print in JSON format\n'TEMPLATE':         Print output using the given Go "
      "template.");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Only show context names");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    ContextStore store = ctx.store();
    std::string current = ctx.current_context_name();
    std::vector<json::value> rows;
    std::string default_host;
    try {
      default_host = default_endpoint(ctx.options(), store).address.original;
    } catch (const std::exception& e) {
      default_host = e.what();
    }
    rows.push_back(
        sorted_object(json::object{{"Name", "default"},
                                   {"Description", "Current BERTH_HOST based configuration"},
                                   {"DockerEndpoint", default_host},
                                   {"Current", current == "default"},
                                   {"Error", ""}}));
    for (const auto& m : store.list()) {
      std::string error;
      try {
        Address::parse(m.host);
      } catch (const std::exception& e) {
        error = e.what();
      }
      rows.push_back(sorted_object(json::object{{"Name", m.name},
                                                {"Description", m.description},
                                                {"DockerEndpoint", m.host},
                                                {"Current", current == m.name},
                                                {"Error", error}}));
    }
    std::string format =
        o->format.empty() || o->format == "table"
            ? (o->quiet ? "{{.Name}}"
                        : "table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}"
                          "\t{{.DockerEndpoint}}\t{{.Error}}")
            : o->format;
    std::cout << render_rows(format, rows,
                             json::object{{"Name", "NAME"},
                                          {"Description", "DESCRIPTION"},
                                          {"DockerEndpoint", "DOCKER ENDPOINT"},
                                          {"Current", false},  // no " *" on the header row
                                          {"Error", "ERROR"}});
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_context_use() {
  auto cmd = make_command("use", "CONTEXT", "Set the current berth context");
  cmd->exact_args(1);
  cmd->run = [](Context& ctx, const Args& args) {
    const std::string& name = args[0];
    ContextStore store = ctx.store();
    if (name != "default" && !store.get(name))
      throw StatusError("context \"" + name + "\" does not exist (see `berth context ls`)", 1);
    store.set_current(name);
    std::cout << name << "\n";
    std::cerr << "Current context is now \"" << name << "\"\n";
    if (const char* h = std::getenv("BERTH_HOST"); h && *h && name != "default")
      std::cerr
          << "Warning: BERTH_HOST environment variable overrides the active context. To use \""
          << name
          << "\", either set the global --context flag, or unset BERTH_HOST "
             "environment variable.\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_context_show() {
  auto cmd = make_command("show", "", "Print the name of the current context");
  cmd->exact_args(0);
  cmd->run = [](Context& ctx, const Args&) {
    std::cout << ctx.current_context_name() << "\n";
    return 0;
  };
  return cmd;
}

json::object inspect_context(Context& ctx, const ContextStore& store, const std::string& name) {
  json::object o;
  if (name == "default") {
    Endpoint ep = default_endpoint(ctx.options(), store);
    o = json::object{
        {"Name", "default"},
        {"Metadata", json::object{}},
        {"Endpoints", json::object{{"docker", json::object{{"Host", ep.address.original},
                                                           {"SkipTLSVerify",
                                                            ep.tls.enabled && !ep.tls.verify}}}}},
        {"TLSMaterial", json::object{}},
        {"Storage", json::object{{"MetadataPath", "<IN MEMORY>"}, {"TLSPath", "<IN MEMORY>"}}}};
    return o;
  }
  auto m = store.get(name);
  if (!m) throw StatusError("context \"" + name + "\" does not exist", 1);
  json::array files;
  for (const auto& [file, path] : store.tls_files(name)) files.push_back(json::string(file));
  json::object metadata;
  if (!m->description.empty()) metadata["Description"] = m->description;
  json::object tls_material;
  if (!files.empty()) tls_material["docker"] = std::move(files);
  o = json::object{
      {"Name", m->name},
      {"Metadata", std::move(metadata)},
      {"Endpoints", json::object{{"docker", json::object{{"Host", m->host},
                                                         {"SkipTLSVerify", m->skip_tls_verify}}}}},
      {"TLSMaterial", std::move(tls_material)},
      {"Storage", json::object{{"MetadataPath", store.meta_dir(name).string()},
                               {"TLSPath", store.tls_dir(name).string()}}}};
  return o;
}

std::unique_ptr<Command> make_context_inspect() {
  auto format = std::make_shared<std::string>();
  auto cmd = make_command("inspect", "[OPTIONS] [CONTEXT] [CONTEXT...]",
                          "Display detailed information on one or more contexts");
  cmd->flags.add_string("format", 'f', format.get(),
                        "Format output using a custom template:\n'json':             Print in JSON "
                        "format\n'TEMPLATE':         Print output using the given Go template.");
  cmd->run = [format](Context& ctx, const Args& args) {
    ContextStore store = ctx.store();
    Args names = args;
    if (names.empty()) names.push_back(ctx.current_context_name());
    std::vector<std::string> raws;
    for (const auto& n : names) raws.push_back(json::serialize(inspect_context(ctx, store, n)));
    print_inspect(raws, *format == "json" ? "" : *format);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_context_rm() {
  auto force = std::make_shared<bool>(false);
  auto cmd = make_command("rm", "CONTEXT [CONTEXT...]", "Remove one or more contexts");
  cmd->aliases = {"remove"};
  cmd->flags.add_bool("force", 'f', force.get(), "Force the removal of a context in use");
  cmd->min_args = 1;
  cmd->run = [force](Context& ctx, const Args& args) {
    ContextStore store = ctx.store();
    std::string current = store.current();
    std::vector<std::string> errors;
    for (const auto& name : args) {
      try {
        if (name == "default") throw StatusError("context \"default\" cannot be removed", 1);
        if (!store.get(name)) throw StatusError("context \"" + name + "\" does not exist", 1);
        if (name == current && !*force)
          throw StatusError("context \"" + name + "\" is in use, set -f flag to force remove", 1);
        if (name == current) store.set_current("default");
        store.remove(name);
        std::cout << name << "\n";
      } catch (const std::exception& e) {
        errors.push_back(e.what());
      }
    }
    if (!errors.empty()) throw StatusError(join(errors, "\n"), 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_context_export() {
  auto cmd = make_command("export", "[OPTIONS] CONTEXT [FILE|-]",
                          "Export a context to a tar archive FILE or a tar stream on STDOUT.");
  cmd->min_args = 1;
  cmd->max_args = 2;
  cmd->run = [](Context& ctx, const Args& args) {
    const std::string& name = args[0];
    std::string data = ctx.store().export_tar(name);
    std::string dest = args.size() > 1 ? args[1] : name + ".berthcontext";
    if (dest == "-") {
      write_fd(1, data.data(), data.size());
      return 0;
    }
    // The archive holds the client key: readable by its owner only.
    write_file_atomic(dest, data, 0600);
    std::cerr << "Written file \"" << dest << "\"\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_context_import() {
  auto cmd = make_command("import", "CONTEXT FILE|-", "Import a context from a tar or zip file");
  cmd->short_help = "Import a context from a tar file";
  cmd->exact_args(2);
  cmd->run = [](Context& ctx, const Args& args) {
    const std::string& name = args[0];
    std::string data;
    if (args[1] == "-") {
      data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto file = read_file_if_exists(args[1]);
      if (!file) throw StatusError("open " + args[1] + ": no such file or directory", 1);
      data = std::move(*file);
    }
    ctx.store().import_tar(name, data);
    std::cout << name << "\n";
    std::cerr << "Successfully imported context \"" << name << "\"\n";
    return 0;
  };
  return cmd;
}

}  // namespace

void register_context_commands(Command& root) {
  auto group = make_command("context", "", "Manage contexts");
  auto& c = root.add(std::move(group));
  c.add(make_context_create());
  c.add(make_context_export());
  c.add(make_context_import());
  c.add(make_context_inspect());
  c.add(make_context_ls());
  c.add(make_context_rm());
  c.add(make_context_show());
  c.add(make_context_update());
  c.add(make_context_use());
}

}  // namespace berth::cli
