// berth exec: create an exec instance, hijack its start, read the exit code afterwards.
#include <boost/json.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/containers.hpp"
#include "cli/term/hijack.hpp"
#include "cli/term/signals.hpp"
#include "cli/term/terminal.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

std::unique_ptr<Command> make_exec() {
  struct Opts {
    bool interactive = false, tty = false, detach = false, privileged = false;
    std::vector<std::string> env, env_file;
    std::string workdir, user, detach_keys;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]",
                          "Execute a command in a running container");
  cmd->alias_paths = {"berth container exec", "berth exec"};
  cmd->interspersed = false;
  auto& f = cmd->flags;
  f.add_bool("detach", 'd', &o->detach, "Detached mode: run command in the background");
  f.add_string("detach-keys", 0, &o->detach_keys,
               "Override the key sequence for detaching a container");
  f.add_list("env", 'e', &o->env, "Set environment variables");
  f.add_list("env-file", 0, &o->env_file, "Read in a file of environment variables");
  f.add_bool("interactive", 'i', &o->interactive, "Keep STDIN open even if not attached");
  f.add_bool("privileged", 0, &o->privileged, "Give extended privileges to the command");
  f.add_bool("tty", 't', &o->tty, "Allocate a pseudo-TTY");
  f.add_string("user", 'u', &o->user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")");
  f.add_string("workdir", 'w', &o->workdir, "Working directory inside the container");
  cmd->min_args = 2;
  cmd->run = [o](Context& ctx, const Args& args) -> int {
    ApiClient& api = ctx.api();
    const std::string& container = args[0];
    inspect_container(ctx, container);  // existence check, like docker
    bool attach_stdin = o->interactive && !o->detach;
    if (!o->detach && attach_stdin && o->tty && !ctx.stdin_is_tty())
      throw StatusError("the input device is not a TTY", 1);
    std::vector<std::string> env;
    for (auto& file : o->env_file) {
      std::ifstream in(file);
      if (!in) throw StatusError("open " + file + ": no such file or directory", 1);
      std::string line;
      while (std::getline(in, line)) {
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        env.push_back(t);
      }
    }
    for (auto& e : o->env) {
      if (e.find('=') == std::string::npos) {
        const char* v = std::getenv(e.c_str());
        env.push_back(v ? e + "=" + v : e);
      } else {
        env.push_back(e);
      }
    }
    unsigned rows = 0, cols = 0;
    if (o->tty) terminal_size(1, &rows, &cols);
    bool new_api = compare_api_versions(api.api_version(), "1.42") >= 0;
    json::object body;
    body["User"] = o->user;
    body["Privileged"] = o->privileged;
    body["Tty"] = o->tty;
    if (new_api && o->tty) body["ConsoleSize"] = json::array{rows, cols};
    body["AttachStdin"] = attach_stdin;
    body["AttachStderr"] = !o->detach;
    body["AttachStdout"] = !o->detach;
    body["Detach"] = o->detach;
    body["DetachKeys"] = o->detach_keys;
    if (env.empty()) {
      body["Env"] = nullptr;
    } else {
      json::array a;
      for (auto& e : env) a.emplace_back(json::string(e));
      body["Env"] = a;
    }
    body["WorkingDir"] = o->workdir;
    json::array cmd_arr;
    for (size_t i = 1; i < args.size(); ++i) cmd_arr.emplace_back(json::string(args[i]));
    body["Cmd"] = cmd_arr;
    json::value created = api.call_json(Request{.method = "POST",
                                                .path = "/containers/" + path_escape(container) +
                                                        "/exec",
                                                .body = json::serialize(body)});
    std::string exec_id = jstr(created, "Id");
    if (exec_id.empty()) throw StatusError("exec ID empty", 1);
    json::object start{{"Detach", o->detach}, {"Tty", o->tty}};
    if (new_api && o->tty) start["ConsoleSize"] = json::array{rows, cols};
    Request start_req{.method = "POST", .path = "/exec/" + exec_id + "/start",
                      .body = json::serialize(start)};
    if (o->detach) {
      api.call(start_req);
      return 0;
    }
    auto keys = parse_detach_keys(o->detach_keys.empty() ? "ctrl-p,ctrl-q" : o->detach_keys);
    bool tty_in = o->tty && ctx.stdin_is_tty();
    std::unique_ptr<SignalThread> winch;
    if (tty_in) {
      winch = std::make_unique<SignalThread>(std::vector<int>{SIGWINCH}, [&ctx, exec_id](int) {
        resize_tty(ctx, "/exec/" + exec_id);
      });
    }
    Hijacked session = api.hijack(start_req);
    // The resize may reach the daemon before the process exists; it is retried.
    std::optional<TtyResizer> resizer;
    if (tty_in) resizer.emplace(ctx, "/exec/" + exec_id);
    std::unique_ptr<RawTerminal> raw;
    if (o->tty && attach_stdin && ctx.stdin_is_tty()) raw = std::make_unique<RawTerminal>(0);
    HijackEnd end = pump_hijacked(session, HijackOptions{.tty = o->tty,
                                                         .send_stdin = attach_stdin,
                                                         .want_output = true,
                                                         .detach_keys = keys});
    if (raw) raw->restore();
    resizer.reset();
    if (end == HijackEnd::kDetached) return 0;
    json::value info = api.get_json("/exec/" + exec_id + "/json");
    int code = static_cast<int>(jint(info, "ExitCode"));
    if (code != 0) throw StatusError("", code);
    return 0;
  };
  return cmd;
}

}  // namespace berth::cli
