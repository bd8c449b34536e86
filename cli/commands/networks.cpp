// network ls/create/rm/inspect/connect/disconnect/prune.
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

json::object kv_object(const std::vector<std::string>& items) {
  json::object o;
  for (auto& kv : items) {
    auto [k, v] = split_once(kv, '=');
    o[k] = v;
  }
  return o;
}

std::unique_ptr<Command> make_network_ls() {
  struct Opts {
    bool quiet = false, no_trunc = false;
    std::string format;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("ls", "[OPTIONS]", "List networks");
  cmd->aliases = {"list"};
  cmd->alias_paths = {"berth network ls", "berth network list"};
  cmd->flags.add_list("filter", 'f', &o->filters,
                      "Provide filter values (e.g. \"driver=bridge\")", "filter");
  cmd->flags.add_string("format", 0, &o->format, kFormatHelp);
  cmd->flags.add_bool("no-trunc", 0, &o->no_trunc, "Do not truncate the output");
  cmd->flags.add_bool("quiet", 'q', &o->quiet, "Only display network IDs");
  cmd->exact_args(0);
  cmd->run = [o](Context& ctx, const Args&) {
    Filters f = parse_filters(o->filters);
    Query q;
    if (!f.empty()) q.add("filters", f.to_json());
    json::value r = ctx.api().get_json("/networks", q);
    std::vector<json::value> nets;
    if (r.is_array()) nets.assign(r.get_array().begin(), r.get_array().end());
    std::sort(nets.begin(), nets.end(),
              [](auto& a, auto& b) { return jstr(a, "Name") < jstr(b, "Name"); });
    std::vector<json::value> rows;
    for (auto& n : nets) {
      json::object row;
      std::string id = jstr(n, "Id");
      row["ID"] = o->no_trunc ? id : short_id(id);
      row["Name"] = jstr(n, "Name");
      row["Driver"] = jstr(n, "Driver");
      row["Scope"] = jstr(n, "Scope");
      row["IPv4"] = jbool(n, "EnableIPv4") || !jfind(n, "EnableIPv4") ? "true" : "false";
      row["IPv6"] = jbool(n, "EnableIPv6") ? "true" : "false";
      row["Internal"] = jbool(n, "Internal") ? "true" : "false";
      std::vector<std::string> labels;
      if (auto* l = jfind(n, "Labels"); l && l->is_object())
        for (auto& kv : l->get_object())
          labels.push_back(std::string(kv.key()) + "=" + jtext(kv.value()));
      std::sort(labels.begin(), labels.end());
      row["Labels"] = join(labels, ",");
      int64_t created_s = 0, ns = 0;
      parse_rfc3339(jstr(n, "Created"), &created_s, &ns);
      row["CreatedAt"] = format_local_time(created_s);
      rows.push_back(sorted_object(row));
    }
    std::string format = o->format.empty() || o->format == "table"
                             ? (o->quiet ? "{{.ID}}"
                                         : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}")
                             : o->format;
    std::cout << render_rows(format, rows,
                             json::object{{"ID", "NETWORK ID"}, {"Name", "NAME"},
                                          {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
                                          {"IPv4", "IPV4"}, {"IPv6", "IPV6"},
                                          {"Internal", "INTERNAL"}, {"Labels", "LABELS"},
                                          {"CreatedAt", "CREATED"}});
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_network_create() {
  struct Opts {
    std::string driver = "bridge", scope, ipam_driver = "default", config_from;
    std::vector<std::string> opts, labels, subnets, ip_ranges, gateways, aux, ipam_opts;
    bool internal = false, attachable = false, ingress = false, config_only = false;
    bool ipv6 = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("create", "[OPTIONS] NETWORK", "Create a network");
  auto& f = cmd->flags;
  f.add_bool("attachable", 0, &o->attachable, "Enable manual container attachment");
  f.add_list("aux-address", 0, &o->aux, "Auxiliary IPv4 or IPv6 addresses used by Network driver", "map");
  f.add_string("config-from", 0, &o->config_from, "The network from which to copy the configuration");
  f.add_bool("config-only", 0, &o->config_only, "Create a configuration only network");
  f.add_string("driver", 'd', &o->driver, "Driver to manage the Network");
  f.add_list("gateway", 0, &o->gateways, "IPv4 or IPv6 Gateway for the master subnet", "strings");
  f.add_bool("ingress", 0, &o->ingress, "Create swarm routing-mesh network");
  f.add_bool("internal", 0, &o->internal, "Restrict external access to the network");
  f.add_list("ip-range", 0, &o->ip_ranges, "Allocate container ip from a sub-range", "strings");
  f.add_string("ipam-driver", 0, &o->ipam_driver, "IP Address Management Driver");
  f.add_list("ipam-opt", 0, &o->ipam_opts, "Set IPAM driver specific options", "map");
  f.add_bool("ipv6", 0, &o->ipv6, "Enable or disable IPv6 address assignment");
  f.add_list("label", 0, &o->labels, "Set metadata on a network");
  f.add_list("opt", 'o', &o->opts, "Set driver specific options", "map");
  f.add_string("scope", 0, &o->scope, "Control the network's scope");
  f.add_list("subnet", 0, &o->subnets, "Subnet in CIDR format that represents a network segment", "strings");
  cmd->exact_args(1);
  Command* self = cmd.get();
  cmd->run = [o, self](Context& ctx, const Args& args) {
    json::array config;
    for (size_t i = 0; i < o->subnets.size(); ++i) {
      json::object c{{"Subnet", o->subnets[i]}};
      if (i < o->ip_ranges.size()) c["IPRange"] = o->ip_ranges[i];
      if (i < o->gateways.size()) c["Gateway"] = o->gateways[i];
      if (!o->aux.empty() && i == 0) c["AuxiliaryAddresses"] = kv_object(o->aux);
      config.push_back(c);
    }
    if (o->subnets.empty() && (!o->gateways.empty() || !o->ip_ranges.empty()))
      throw StatusError("every ip-range or gateway must have a corresponding subnet", 1);
    json::object body;
    body["Driver"] = o->driver;
    body["Scope"] = o->scope;
    if (self->flags.changed("ipv6")) body["EnableIPv6"] = o->ipv6;
    body["IPAM"] = json::object{{"Driver", o->ipam_driver},
                                {"Options", kv_object(o->ipam_opts)},
                                {"Config", config}};
    body["Internal"] = o->internal;
    body["Attachable"] = o->attachable;
    body["Ingress"] = o->ingress;
    body["ConfigOnly"] = o->config_only;
    body["ConfigFrom"] = o->config_from.empty()
                             ? json::value(nullptr)
                             : json::value(json::object{{"Network", o->config_from}});
    body["Options"] = kv_object(o->opts);
    body["Labels"] = kv_object(o->labels);
    body["Name"] = args[0];
    if (compare_api_versions(ctx.api().api_version(), "1.44") < 0) body["CheckDuplicate"] = true;
    json::value r = ctx.api().call_json(
        Request{.method = "POST", .path = "/networks/create", .body = json::serialize(body)});
    std::string warning = jstr(r, "Warning");
    if (!warning.empty()) std::cerr << warning << "\n";
    std::cout << jstr(r, "Id") << "\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_network_rm() {
  auto force = std::make_shared<bool>(false);
  auto cmd = make_command("rm", "NETWORK [NETWORK...]", "Remove one or more networks");
  cmd->aliases = {"remove"};
  cmd->alias_paths = {"berth network rm", "berth network remove"};
  cmd->flags.add_bool("force", 'f', force.get(), "Do not error if the network does not exist");
  cmd->min_args = 1;
  cmd->run = [force](Context& ctx, const Args& args) {
    int status = 0;
    for (auto& n : args) {
      try {
        try {
          ctx.api().call(Request{.path = "/networks/" + path_escape(n)});
        } catch (const ApiError&) {
        }
        ctx.api().call(Request{.method = "DELETE", .path = "/networks/" + path_escape(n)});
        std::cout << n << "\n" << std::flush;
      } catch (const ApiError& e) {
        if (*force && e.not_found()) continue;
        std::cerr << e.what() << "\n";
        status = 1;
      }
    }
    if (status) throw StatusError("exit status 1", 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_network_inspect() {
  struct Opts {
    std::string format;
    bool verbose = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("inspect", "[OPTIONS] NETWORK [NETWORK...]",
                          "Display detailed information on one or more networks");
  cmd->flags.add_string("format", 'f', &o->format, kInspectFormatHelp);
  cmd->flags.add_bool("verbose", 'v', &o->verbose, "Verbose output for diagnostics");
  cmd->min_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    std::vector<std::string> raws, errors;
    for (auto& n : args) {
      try {
        Query q;
        if (o->verbose) q.add("verbose", "true");
        raws.push_back(ctx.api().call(Request{.path = "/networks/" + path_escape(n), .query = q}));
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

std::unique_ptr<Command> make_network_connect() {
  struct Opts {
    std::string ip, ip6;
    std::vector<std::string> links, aliases, link_local, driver_opts;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("connect", "[OPTIONS] NETWORK CONTAINER",
                          "Connect a container to a network");
  cmd->flags.add_list("alias", 0, &o->aliases, "Add network-scoped alias for the container", "strings");
  cmd->flags.add_list("driver-opt", 0, &o->driver_opts, "driver options for the network", "strings");
  cmd->flags.add_string("ip", 0, &o->ip, "IPv4 address (e.g., \"172.30.100.104\")");
  cmd->flags.add_string("ip6", 0, &o->ip6, "IPv6 address (e.g., \"2001:db8::33\")");
  cmd->flags.add_list("link", 0, &o->links, "Add link to another container");
  cmd->flags.add_list("link-local-ip", 0, &o->link_local, "Add a link-local address for the container", "strings");
  cmd->exact_args(2);
  cmd->run = [o](Context& ctx, const Args& args) {
    json::object ipam;
    if (!o->ip.empty()) ipam["IPv4Address"] = o->ip;
    if (!o->ip6.empty()) ipam["IPv6Address"] = o->ip6;
    if (!o->link_local.empty()) {
      json::array a;
      for (auto& l : o->link_local) a.emplace_back(json::string(l));
      ipam["LinkLocalIPs"] = a;
    }
    json::array aliases;
    for (auto& a : o->aliases) aliases.emplace_back(json::string(a));
    json::value links = nullptr;
    if (!o->links.empty()) {
      json::array l;
      for (auto& x : o->links) l.emplace_back(json::string(x));
      links = l;
    }
    json::object ep{{"IPAMConfig", ipam}, {"Links", links}, {"Aliases", aliases},
                    {"MacAddress", ""}, {"DriverOpts", kv_object(o->driver_opts)},
                    {"GwPriority", 0}, {"NetworkID", ""}, {"EndpointID", ""}, {"Gateway", ""},
                    {"IPAddress", ""}, {"IPPrefixLen", 0}, {"IPv6Gateway", ""},
                    {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0},
                    {"DNSNames", nullptr}};
    json::object body{{"Container", args[1]}, {"EndpointConfig", ep}};
    ctx.api().call(Request{.method = "POST", .path = "/networks/" + path_escape(args[0]) + "/connect",
                           .body = json::serialize(body)});
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_network_disconnect() {
  auto force = std::make_shared<bool>(false);
  auto cmd = make_command("disconnect", "[OPTIONS] NETWORK CONTAINER",
                          "Disconnect a container from a network");
  cmd->flags.add_bool("force", 'f', force.get(), "Force the container to disconnect from a network");
  cmd->exact_args(2);
  cmd->run = [force](Context& ctx, const Args& args) {
    json::object body{{"Container", args[1]}, {"Force", *force}};
    ctx.api().call(Request{.method = "POST",
                           .path = "/networks/" + path_escape(args[0]) + "/disconnect",
                           .body = json::serialize(body)});
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_network_prune() {
  return make_prune_command({.summary = "Remove all unused networks",
                             .warning = "WARNING! This will remove all custom networks not used "
                                        "by at least one container.\nAre you sure you want to "
                                        "continue?",
                             .path = "/networks/prune",
                             .deleted_key = "NetworksDeleted",
                             .deleted_title = "Deleted Networks:"});
}

}  // namespace

void register_network_commands(Command& root) {
  auto& network = root.add(make_command("network", "", "Manage networks"));
  network.add(make_network_connect());
  network.add(make_network_create());
  network.add(make_network_disconnect());
  network.add(make_network_inspect());
  network.add(make_network_ls());
  network.add(make_network_prune());
  network.add(make_network_rm());
}

}  // namespace berth::cli
