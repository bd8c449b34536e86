#include "cli/app/command.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli/app/errors.hpp"
#include "cli/client/api_client.hpp"
#include "cli/commands/registry.hpp"
#include "cli/util/files.hpp"

namespace berth::cli {

Command::Command(std::string n, std::string u, std::string s)
    : name(std::move(n)), usage_args(std::move(u)), short_help(std::move(s)) {}

std::unique_ptr<Command> make_command(std::string name, std::string usage_args,
                                      std::string short_help) {
  return std::make_unique<Command>(std::move(name), std::move(usage_args), std::move(short_help));
}

Command& Command::add(std::unique_ptr<Command> child) {
  child->parent_ = this;
  children_.push_back(std::move(child));
  return *children_.back();
}

Command* Command::find_child(const std::string& n) {
  for (auto& c : children_) {
    if (c->name == n) return c.get();
    if (std::find(c->aliases.begin(), c->aliases.end(), n) != c->aliases.end()) return c.get();
  }
  return nullptr;
}

std::string Command::path() const { return parent_ ? parent_->path() + " " + name : name; }

std::string Command::use_line() const {
  if (!children_.empty()) return path() + (parent_ ? " COMMAND" : " [OPTIONS] COMMAND");
  return usage_args.empty() ? path() : path() + " " + usage_args;
}

std::string Command::help() const {
  std::string out = "\nUsage:  " + use_line() + "\n\n" + short_help + "\n";
  if (!alias_paths.empty()) {
    out += "\nAliases:\n  ";
    for (size_t i = 0; i < alias_paths.size(); ++i) out += (i ? ", " : "") + alias_paths[i];
    out += "\n";
  }
  if (!flags.empty() && parent_) out += "\n" + std::string("Options:\n") + flags.usages();
  if (!children_.empty()) {
    size_t width = 0;
    std::vector<const Command*> sorted;
    for (auto& c : children_) {
      if (c->short_help.empty()) continue;
      sorted.push_back(c.get());
      width = std::max(width, c->name.size());
    }
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
    out += "\nCommands:\n";
    for (auto* c : sorted)
      out += "  " + c->name + std::string(width - c->name.size() + 2, ' ') + c->short_help + "\n";
  }
  if (!parent_) out += "\nGlobal Options:\n" + flags.usages();
  if (!children_.empty())
    out += "\nRun '" + path() + " COMMAND --help' for more information on a command.\n";
  return out;
}

void Command::check_args(const Args& args) const {
  int n = static_cast<int>(args.size());
  auto plural = [](int k) { return std::string(k == 1 ? "argument" : "arguments"); };
  std::string tail = "\n\nUsage:  " + use_line() + "\n\nRun '" + path() +
                     " --help' for more information";
  if (min_args == max_args && n != min_args) {
    if (min_args == 0)
      throw StatusError("berth: '" + path() + "' accepts no arguments" + tail, 1);
    throw StatusError("berth: '" + path() + "' requires " + std::to_string(min_args) + " " +
                          plural(min_args) + tail,
                      1);
  }
  if (n < min_args) {
    if (max_args > 0)
      throw StatusError("berth: '" + path() + "' requires at least " + std::to_string(min_args) +
                            " and at most " + std::to_string(max_args) + " " + plural(max_args) +
                            tail,
                        1);
    throw StatusError("berth: '" + path() + "' requires at least " + std::to_string(min_args) +
                          " " + plural(min_args) + tail,
                      1);
  }
  if (max_args >= 0 && n > max_args) {
    if (min_args > 0)
      throw StatusError("berth: '" + path() + "' requires at least " + std::to_string(min_args) +
                            " and at most " + std::to_string(max_args) + " " + plural(max_args) +
                            tail,
                        1);
    throw StatusError("berth: '" + path() + "' requires at most " + std::to_string(max_args) +
                          " " + plural(max_args) + tail,
                      1);
  }
}

namespace {

std::unique_ptr<Command> build_root(GlobalOptions& g, bool& show_version) {
  auto root = make_command("berth", "[OPTIONS] COMMAND", "A self-sufficient runtime for containers");
  root->interspersed = false;
  // Shown as defaults in the help, as docker does; resolved for real after parsing.
  std::string cert_dir = std::getenv("BERTH_CERT_PATH") && *std::getenv("BERTH_CERT_PATH")
                             ? std::getenv("BERTH_CERT_PATH")
                             : config_dir("", std::getenv("BERTH_CONFIG") ? std::getenv("BERTH_CONFIG") : "",
                                          home_dir());
  root->flags.add_string("config", 0, &g.config, "Location of client config files", "string")
      .default_text = "\"" + config_dir("", std::getenv("BERTH_CONFIG") ? std::getenv("BERTH_CONFIG") : "",
                                         home_dir()) + "\"";
  root->flags.add_string("context", 'c', &g.context,
                         "Name of the context to use to connect to the daemon (overrides "
                         "BERTH_HOST env var and default context set with \"berth context use\")",
                         "string");
  root->flags.add_list("host", 'H', &g.hosts, "Daemon socket to connect to", "list");
  root->flags.add_bool("tls", 0, &g.tls.tls, "Use TLS; implied by --tlsverify");
  root->flags.add_string("tlscacert", 0, &g.tls.cacert, "Trust certs signed only by this CA", "string")
      .default_text = "\"" + cert_dir + "/ca.pem\"";
  root->flags.add_string("tlscert", 0, &g.tls.cert, "Path to TLS certificate file", "string")
      .default_text = "\"" + cert_dir + "/cert.pem\"";
  root->flags.add_string("tlskey", 0, &g.tls.key, "Path to TLS key file", "string")
      .default_text = "\"" + cert_dir + "/key.pem\"";
  root->flags.add_bool("tlsverify", 0, &g.tls.tlsverify, "Use TLS and verify the remote");
  root->flags.add_bool("debug", 'D', &g.debug, "Enable debug mode");
  root->flags.add_string("log-level", 'l', &g.log_level,
                         "Set the logging level (\"debug\", \"info\", \"warn\", \"error\", "
                         "\"fatal\")");
  root->flags.add_bool("version", 'v', &show_version, "Print version information and quit");
  register_system_commands(*root);
  register_image_commands(*root);
  register_plugin_commands(*root);
  register_container_commands(*root);
  register_volume_commands(*root);
  register_network_commands(*root);
  register_context_commands(*root);
  register_registry_commands(*root);
  register_ui_commands(*root);
  return root;
}

void add_help_flags(Command& c, bool* help) {
  if (!c.flags.find("help")) {
    auto& f = c.flags.add_bool("help", 0, help, "Print usage");
    f.hidden = true;
  }
  for (auto& child : c.children()) add_help_flags(*child, help);
}

int execute(const std::vector<std::string>& argv) {
  GlobalOptions g;
  bool show_version = false, help = false;
  auto root = build_root(g, show_version);
  add_help_flags(*root, &help);

  Command* cmd = root.get();
  Args rest;
  try {
    rest = root->flags.parse(argv, false);
  } catch (const UsageError& e) {
    std::cerr << e.what() << "\nSee 'berth --help'.\n";
    return 125;
  }
  g.tls.tlsverify_given = root->flags.changed("tlsverify");
  if (g.hosts.size() > 1) {  // docker's rule: a list flag, one value
    std::cerr << "Specify only one -H\n";
    return 1;
  }
  if (!g.hosts.empty()) g.host = g.hosts.front();
  if (show_version) {
    std::cout << "Berth version " << BERTH_CLI_VERSION << "\n";
    return 0;
  }
  // Walk management commands (`image ls`, `container run`, ...).
  while (!rest.empty() && !cmd->children().empty()) {
    if (rest[0] == "help") {  // `berth help [cmd]`
      rest.erase(rest.begin());
      help = true;
      continue;
    }
    Command* child = cmd->find_child(rest[0]);
    if (!child) {
      if (rest[0].starts_with("-")) break;
      std::cerr << "berth: unknown command: " << cmd->path() << " " << rest[0] << "\n\nRun '"
                << cmd->path() << " --help' for more information\n";
      return 1;
    }
    cmd = child;
    rest.erase(rest.begin());
  }
  if (!cmd->children().empty()) {
    // A group alone (or with only flags) prints its help, like docker.
    try {
      cmd->flags.parse(rest, true);
    } catch (const UsageError& e) {
      std::cerr << e.what() << "\nSee '" << cmd->path() << " --help'.\n";
      return 125;
    }
    std::cout << cmd->help();
    return 0;
  }

  Args args;
  try {
    args = cmd->flags.parse(rest, cmd->interspersed);
  } catch (const UsageError& e) {
    if (help) {
      std::cout << cmd->help();
      return 0;
    }
    std::cerr << e.what() << "\n\nUsage:  " << cmd->use_line() << "\n\nRun '" << cmd->path()
              << " --help' for more information\n";
    return e.code();
  }
  if (help) {
    std::cout << cmd->help();
    return 0;
  }
  Context ctx(g);
  try {
    cmd->check_args(args);
    int rc = cmd->run(ctx, args);
    std::cout.flush();
    if (g.debug && ctx.has_api() && ctx.endpoint().tls.enabled) {
      auto [handshakes, resumed] = ctx.api().tls_handshakes();
      std::cerr << "berth: " << handshakes << " TLS handshake(s), " << resumed << " resumed\n";
    }
    return rc;
  } catch (const StatusError& e) {
    std::cout.flush();
    if (*e.what()) std::cerr << e.what() << "\n";
    return e.code();
  } catch (const UsageError& e) {
    std::cout.flush();
    std::cerr << e.what() << "\n\nUsage:  " << cmd->use_line() << "\n\nRun '" << cmd->path()
              << " --help' for more information\n";
    return e.code();
  } catch (const ConnectError& e) {
    std::cout.flush();
    std::cerr << ctx.api().unreachable_message(&e) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int run_cli(const std::vector<std::string>& argv) {
  try {
    return execute(argv);
  } catch (const StatusError& e) {
    std::cout.flush();
    if (*e.what()) std::cerr << e.what() << "\n";
    return e.code();
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << e.what() << "\n";
    return 1;
  }
}

}  // namespace berth::cli
