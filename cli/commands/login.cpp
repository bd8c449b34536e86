// berth login / logout: credentials checked by the daemon (POST /auth, which asks the registry)
// and kept in config.json as the docker CLI keeps them (cli/client/docker_config.hpp).
#include <unistd.h>

#include <boost/json.hpp>
#include <iostream>

#include "cli/app/errors.hpp"
#include "cli/client/docker_config.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/registry.hpp"

namespace berth::cli {
namespace {

namespace json = boost::json;

std::string read_password_stdin() {
  std::string password;
  std::getline(std::cin, password);
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) password.pop_back();
  return password;
}

std::unique_ptr<Command> make_login() {
  struct Opts {
    std::string username, password;
    bool password_stdin = false;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("login", "[OPTIONS] [SERVER]",
                          "Log in to a registry.\nIf no server is specified, the default is defined by the daemon.");
  cmd->flags.add_string("username", 'u', &o->username, "Username");
  cmd->flags.add_string("password", 'p', &o->password, "Password");
  cmd->flags.add_bool("password-stdin", 0, &o->password_stdin, "Take the password from stdin");
  cmd->max_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) {
    std::string server = credentials_server(args.empty() ? "docker.io" : args[0]);
    if (!o->password.empty()) {
      std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
      if (o->password_stdin) throw StatusError("--password and --password-stdin are mutually exclusive", 1);
    }
    DockerConfig config(ctx.config_dir());
    std::string password = o->password;
    if (o->password_stdin) {
      if (o->username.empty()) throw StatusError("Must provide --username with --password-stdin", 1);
      password = read_password_stdin();
    }
    std::string username = o->username;
    if (username.empty() && password.empty()) {
      if (auto stored = config.get(server)) {
        username = stored->username;
        password = stored->password;
      }
    }
    if (username.empty()) {
      if (!ctx.stdin_is_tty()) throw StatusError("Error: Cannot perform an interactive login from a non TTY device", 1);
      std::cout << "Username: " << std::flush;
      std::getline(std::cin, username);
    }
    if (password.empty()) {
      if (!ctx.stdin_is_tty()) throw StatusError("Error: Cannot perform an interactive login from a non TTY device", 1);
      char* p = ::getpass("Password: ");
      password = p ? p : "";
    }
    json::object body{{"username", username}, {"password", password}, {"serveraddress", server}};
    json::value answer =
        ctx.api().call_json(Request{.method = "POST", .path = "/auth", .body = json::serialize(body)});
    config.store(StoredAuth{username, password, server});
    std::cerr << "WARNING! Your password will be stored unencrypted in " << config.file().string()
              << ".\n";
    std::string status = answer.is_object() && answer.as_object().contains("Status") &&
                                 answer.as_object().at("Status").is_string()
                             ? std::string(answer.as_object().at("Status").as_string())
                             : "Login Succeeded";
    std::cout << status << "\n";
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_logout() {
  auto cmd = make_command("logout", "[SERVER]",
                          "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.");
  cmd->max_args = 1;
  cmd->run = [](Context& ctx, const Args& args) {
    std::string server = credentials_server(args.empty() ? "docker.io" : args[0]);
    DockerConfig config(ctx.config_dir());
    if (!config.erase(server)) {
      std::cout << "Not logged in to " << server << "\n";
      return 0;
    }
    std::cout << "Removing login credentials for " << server << "\n";
    return 0;
  };
  return cmd;
}

}  // namespace

void register_registry_commands(Command& root) {
  root.add(make_login());
  root.add(make_logout());
  root.add(make_search());
}

}  // namespace berth::cli
