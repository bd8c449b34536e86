// run, create, start, attach: the commands that create containers and/or attach to them,
// following docker's request order (create -> attach (101) -> wait (headers) -> start ->
// resize) so the daemon sees exactly what the docker CLI sends.
#include <csignal>
#include <fstream>
#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/app/errors.hpp"
#include "cli/commands/common.hpp"
#include "cli/commands/container_opts.hpp"
#include "cli/commands/containers.hpp"
#include "cli/commands/images.hpp"
#include "cli/stream/jsonmessage.hpp"
#include "cli/term/hijack.hpp"
#include "cli/term/signals.hpp"
#include "cli/term/terminal.hpp"
#include "cli/util/json_util.hpp"
#include "cli/util/reference.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace json = boost::json;

namespace {

constexpr const char* kDefaultDetachKeys = "ctrl-p,ctrl-q";

// POST /containers/{id}/wait on its own connection. The constructor returns once the daemon
// sent the response headers (docker blocks on them before calling start); the body (the exit
// status) is read in the background.
class Waiter {
 public:
  Waiter(ApiClient& api, const std::string& id, const std::string& condition) {
    Query q;
    if (!condition.empty()) q.add("condition", condition);
    resp_ = std::make_unique<Response>(api.send(
        Request{.method = "POST", .path = "/containers/" + id + "/wait", .query = q}));
    thread_ = std::thread([this] {
      try {
        std::string body = resp_->read_all();
        json::value v = parse_json(trim(body));
        const json::value* err = jfind(v, "Error");
        if (err && err->is_object() && !jstr(*err, "Message").empty()) {
          std::cerr << "Error waiting for container: " << jstr(*err, "Message") << "\n";
          status_ = 125;
        } else {
          status_ = static_cast<int>(jint(v, "StatusCode"));
        }
      } catch (const std::exception& e) {
        if (!cancelled_) {
          std::cerr << "error waiting for container: " << e.what() << "\n";
          status_ = 125;
        }
      }
    });
  }
  ~Waiter() {
    if (thread_.joinable()) {
      cancel();
      thread_.join();
    }
  }
  int get() {
    if (thread_.joinable()) thread_.join();
    return status_;
  }
  void cancel() {
    cancelled_ = true;
    resp_->interrupt();
  }

 private:
  std::unique_ptr<Response> resp_;
  std::thread thread_;
  std::atomic<bool> cancelled_{false};
  int status_ = -1;
};

Hijacked open_attach(ApiClient& api, const std::string& id, bool in, bool out, bool err,
                     const std::string& detach_keys) {
  Query q;
  if (err) q.add("stderr", "1");
  if (in) q.add("stdin", "1");
  if (out) q.add("stdout", "1");
  q.add("stream", "1");
  if (!detach_keys.empty()) q.add("detachKeys", detach_keys);
  return api.hijack(
      Request{.method = "POST", .path = "/containers/" + id + "/attach", .query = q});
}

// Forwards signals to the container (sig-proxy), resizes on SIGWINCH.
std::unique_ptr<SignalThread> start_signal_thread(Context& ctx, const std::string& id,
                                                  bool proxy, bool tty_resize) {
  std::vector<int> sigs;
  if (proxy)
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigs.push_back(s);
  if (tty_resize) sigs.push_back(SIGWINCH);
  if (sigs.empty()) return nullptr;
  ApiClient* api = &ctx.api();
  return std::make_unique<SignalThread>(sigs, [&ctx, api, id](int sig) {
    if (sig == SIGWINCH) {
      resize_tty(ctx, "/containers/" + id);
      return;
    }
    try {
      api->call(Request{.method = "POST",
                        .path = "/containers/" + id + "/kill",
                        .query = Query().add("signal", signal_name(sig))});
    } catch (const std::exception&) {
      // docker only logs this at debug level
    }
  });
}

[[noreturn]] void run_failure(const std::string& cmd, const std::string& msg, int code) {
  throw StatusError("berth: " + msg + "\n\nRun 'berth " + cmd + " --help' for more information",
                    code);
}

// create with docker's pull-on-404 behaviour; returns the container ID.
std::string create_container(Context& ctx, const CreateRequest& req, const std::string& pull,
                             const std::string& platform, const std::string& cmd_name) {
  auto do_pull = [&] {
    try {
      pull_image(ctx, req.image, platform, 2);
    } catch (const JsonMessageError& e) {
      run_failure(cmd_name, e.what(), 125);
    } catch (const ApiError& e) {
      run_failure(cmd_name, e.what(), 125);
    }
  };
  if (pull != "missing" && pull != "always" && pull != "never")
    run_failure(cmd_name, "invalid pull option: '" + pull + "': must be one of \"always\", "
                          "\"missing\" or \"never\"", 125);
  if (pull == "always") do_pull();
  Query q;
  if (!req.name.empty()) q.add("name", req.name);
  if (!platform.empty()) q.add("platform", platform);
  std::string body = json::serialize(req.body);
  Request r{.method = "POST", .path = "/containers/create", .query = q, .body = body};
  json::value created;
  try {
    created = ctx.api().call_json(r);
  } catch (const ApiError& e) {
    Reference ref;
    if (e.not_found() && pull == "missing" && Reference::parse(req.image, &ref)) {
      std::cerr << "Unable to find image '" << ref.familiar_string() << "' locally\n";
      if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
      do_pull();
      try {
        created = ctx.api().call_json(r);
      } catch (const ApiError& e2) {
        run_failure(cmd_name, e2.what(), run_error_code(e2.message()));
      }
    } else {
      run_failure(cmd_name, e.what(), run_error_code(e.message()));
    }
  }
  for (auto& w : jstrings(created, "Warnings")) std::cerr << "WARNING: " << w << "\n";
  return jstr(created, "Id");
}

struct RunOpts {
  ContainerOptions c;
  bool detach = false, sig_proxy = true;
  std::string detach_keys;
};

std::unique_ptr<Command> make_run_like(bool is_run) {
  auto o = std::make_shared<RunOpts>();
  auto cmd = make_command(is_run ? "run" : "create", "[OPTIONS] IMAGE [COMMAND] [ARG...]",
                          is_run ? "Create and run a new container from an image"
                                 : "Create a new container");
  cmd->alias_paths = {std::string("berth container ") + (is_run ? "run" : "create"),
                      std::string("berth ") + (is_run ? "run" : "create")};
  cmd->interspersed = false;
  add_container_flags(cmd->flags, o->c);
  if (is_run) {
    cmd->flags.add_bool("detach", 'd', &o->detach,
                        "Run container in background and print container ID");
    cmd->flags.add_string("detach-keys", 0, &o->detach_keys,
                          "Override the key sequence for detaching a container");
    cmd->flags.add_bool("sig-proxy", 0, &o->sig_proxy, "Proxy received signals to the process");
  }
  cmd->min_args = 1;
  Command* self = cmd.get();
  cmd->run = [o, self, is_run](Context& ctx, const Args& args) -> int {
    const char* name = is_run ? "run" : "create";
    ContainerOptions& c = o->c;
    unsigned rows = 0, cols = 0;
    if (c.tty) terminal_size(1, &rows, &cols);
    CreateRequest req;
    try {
      req = build_create_request(c, self->flags, args, is_run ? o->detach : true, rows, cols);
    } catch (const StatusError& e) {
      run_failure(name, e.what(), e.code());
    }
    json::object& cfg = req.body;
    bool attach_stdin = cfg["AttachStdin"].as_bool();
    bool attach_stdout = cfg["AttachStdout"].as_bool();
    bool attach_stderr = cfg["AttachStderr"].as_bool();
    if (!is_run) {
      // create never attaches.
      cfg["AttachStdin"] = false;
      cfg["AttachStdout"] = false;
      cfg["AttachStderr"] = false;
      if (c.attach.empty()) {
        cfg["AttachStdout"] = true;
        cfg["AttachStderr"] = true;
        if (c.interactive) cfg["AttachStdin"] = true;
      }
      cfg["StdinOnce"] = c.interactive && c.attach.empty();
      std::string id = create_container(ctx, req, c.pull, c.platform, name);
      if (!c.cidfile.empty()) std::ofstream(c.cidfile) << id;
      std::cout << id << "\n";
      return 0;
    }
    if (!o->detach) {
      if (attach_stdin && c.tty && !ctx.stdin_is_tty())
        run_failure(name, "the input device is not a TTY", 1);
    } else if (!c.attach.empty()) {
      run_failure(name, "conflicting options: cannot specify both --attach and --detach", 125);
    }
    std::vector<unsigned char> keys;
    std::string detach_keys = o->detach_keys;
    keys = parse_detach_keys(detach_keys.empty() ? kDefaultDetachKeys : detach_keys);

    std::string id = create_container(ctx, req, c.pull, c.platform, name);
    if (!c.cidfile.empty()) std::ofstream(c.cidfile) << id;
    ApiClient& api = ctx.api();
    bool attach = attach_stdin || attach_stdout || attach_stderr;
    bool tty_out = c.tty && ctx.stdout_is_tty();
    // A detached run has nothing to proxy signals to or wait for (--rm is the daemon's job):
    // no helper threads, no wait connection.
    auto signals = start_signal_thread(ctx, id, o->sig_proxy && attach, attach && tty_out);

    std::optional<Hijacked> session;
    if (attach) {
      try {
        session.emplace(open_attach(api, id, attach_stdin, attach_stdout, attach_stderr,
                                    o->detach_keys));
      } catch (const ApiError& e) {
        throw StatusError(e.what(), 1);
      }
    }
    std::optional<Waiter> waiter;
    if (attach || c.auto_remove) waiter.emplace(api, id, c.auto_remove ? "removed" : "next-exit");
    try {
      api.call(Request{.method = "POST", .path = "/containers/" + id + "/start"});
    } catch (const ApiError& e) {
      if (session) session->conn->close();
      if (c.auto_remove) waiter->get();
      run_failure(name, e.what(), run_error_code(e.message()));
    }
    if (!attach) {
      if (waiter) waiter->cancel();
      std::cout << id << "\n";
      return 0;
    }
    std::unique_ptr<RawTerminal> raw;
    if (c.tty && attach_stdin && ctx.stdin_is_tty()) raw = std::make_unique<RawTerminal>(0);
    std::optional<TtyResizer> resizer;
    if (tty_out) resizer.emplace(ctx, "/containers/" + id);
    HijackOptions ho{.tty = c.tty, .send_stdin = attach_stdin,
                     .want_output = attach_stdout || attach_stderr, .detach_keys = keys};
    HijackEnd end = pump_hijacked(*session, ho);
    if (raw) raw->restore();
    if (end == HijackEnd::kDetached) {
      waiter->cancel();
      return 0;
    }
    int status = waiter->get();
    if (status != 0) throw StatusError("", status);
    return 0;
  };
  return cmd;
}

}  // namespace

std::unique_ptr<Command> make_run() { return make_run_like(true); }
std::unique_ptr<Command> make_create() { return make_run_like(false); }

std::unique_ptr<Command> make_start() {
  struct Opts {
    bool attach = false, interactive = false;
    std::string detach_keys;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("start", "[OPTIONS] CONTAINER [CONTAINER...]",
                          "Start one or more stopped containers");
  cmd->alias_paths = {"berth container start", "berth start"};
  cmd->flags.add_bool("attach", 'a', &o->attach, "Attach STDOUT/STDERR and forward signals");
  cmd->flags.add_string("detach-keys", 0, &o->detach_keys,
                        "Override the key sequence for detaching a container");
  cmd->flags.add_bool("interactive", 'i', &o->interactive, "Attach container's STDIN");
  cmd->min_args = 1;
  cmd->run = [o](Context& ctx, const Args& args) -> int {
    ApiClient& api = ctx.api();
    if (o->attach || o->interactive) {
      if (args.size() > 1)
        throw StatusError("you cannot start and attach multiple containers at once", 1);
      json::value c = inspect_container(ctx, args[0]);
      std::string id = jstr(c, "Id");
      bool tty = jbool(c, "Config.Tty");
      bool in = o->interactive && jbool(c, "Config.OpenStdin");
      auto keys = parse_detach_keys(o->detach_keys.empty() ? kDefaultDetachKeys : o->detach_keys);
      bool tty_out = tty && ctx.stdout_is_tty();
      auto signals = start_signal_thread(ctx, id, !tty, tty_out);
      Hijacked session = open_attach(api, id, in, true, true, o->detach_keys);
      Waiter waiter(api, id, jbool(c, "HostConfig.AutoRemove") ? "removed" : "next-exit");
      try {
        api.call(Request{.method = "POST", .path = "/containers/" + id + "/start"});
      } catch (const ApiError&) {
        session.conn->close();
        if (jbool(c, "HostConfig.AutoRemove")) waiter.get();
        throw;
      }
      std::unique_ptr<RawTerminal> raw;
      if (tty && in && ctx.stdin_is_tty()) raw = std::make_unique<RawTerminal>(0);
      std::optional<TtyResizer> resizer;
    if (tty_out) resizer.emplace(ctx, "/containers/" + id);
      HijackEnd end = pump_hijacked(
          session, HijackOptions{.tty = tty, .send_stdin = in, .want_output = true,
                                 .detach_keys = keys});
      if (raw) raw->restore();
      if (end == HijackEnd::kDetached) {
        waiter.cancel();
        return 0;
      }
      int status = waiter.get();
      if (status != 0) throw StatusError("", status);
      return 0;
    }
    std::vector<std::string> failed;
    for (auto& c : args) {
      try {
        api.call(Request{.method = "POST", .path = "/containers/" + path_escape(c) + "/start"});
        std::cout << c << "\n" << std::flush;
      } catch (const ApiError& e) {
        std::cerr << e.what() << "\n";
        failed.push_back(c);
      }
    }
    if (!failed.empty())
      throw StatusError("Error: failed to start containers: " + join(failed, ", "), 1);
    return 0;
  };
  return cmd;
}

std::unique_ptr<Command> make_attach() {
  struct Opts {
    bool no_stdin = false, sig_proxy = true;
    std::string detach_keys;
  };
  auto o = std::make_shared<Opts>();
  auto cmd = make_command("attach", "[OPTIONS] CONTAINER",
                          "Attach local standard input, output, and error streams to a running "
                          "container");
  cmd->alias_paths = {"berth container attach", "berth attach"};
  cmd->flags.add_string("detach-keys", 0, &o->detach_keys,
                        "Override the key sequence for detaching a container");
  cmd->flags.add_bool("no-stdin", 0, &o->no_stdin, "Do not attach STDIN");
  cmd->flags.add_bool("sig-proxy", 0, &o->sig_proxy,
                      "Proxy all received signals to the process");
  cmd->exact_args(1);
  cmd->run = [o](Context& ctx, const Args& args) -> int {
    ApiClient& api = ctx.api();
    const std::string& name = args[0];
    // docker: wait (no condition) first, then inspect, then attach.
    Waiter waiter(api, path_escape(name), "");
    json::value c = inspect_container(ctx, name);
    if (!jbool(c, "State.Running"))
      throw StatusError("You cannot attach to a stopped container, start it first", 1);
    if (jbool(c, "State.Paused"))
      throw StatusError("You cannot attach to a paused container, unpause it first", 1);
    if (jbool(c, "State.Restarting"))
      throw StatusError("You cannot attach to a restarting container, wait until it is running",
                        1);
    bool tty = jbool(c, "Config.Tty");
    bool in = !o->no_stdin && jbool(c, "Config.OpenStdin");
    if (in && tty && !ctx.stdin_is_tty()) throw StatusError("the input device is not a TTY", 1);
    auto keys = parse_detach_keys(o->detach_keys.empty() ? kDefaultDetachKeys : o->detach_keys);
    bool tty_out = tty && ctx.stdout_is_tty();
    std::string id = jstr(c, "Id");
    auto signals = start_signal_thread(ctx, id, o->sig_proxy && !tty, tty_out);
    Hijacked session = open_attach(api, path_escape(name), in, true, true, o->detach_keys);
    std::unique_ptr<RawTerminal> raw;
    if (tty && in && ctx.stdin_is_tty()) raw = std::make_unique<RawTerminal>(0);
    std::optional<TtyResizer> resizer;
    if (tty_out) {
      // docker resizes to (h+1, w+1) first: the size change makes the shell redraw its prompt
      // even when the terminal did not change since the last attach.
      unsigned rows = 0, cols = 0;
      if (terminal_size(1, &rows, &cols) && rows && cols) {
        try {
          api.call(Request{.method = "POST", .path = "/containers/" + id + "/resize",
                           .query = Query()
                                        .add("h", std::to_string(rows + 1))
                                        .add("w", std::to_string(cols + 1))});
        } catch (const ApiError&) {
        }
      }
      resizer.emplace(ctx, "/containers/" + id);
    }
    HijackEnd end = pump_hijacked(
        session,
        HijackOptions{.tty = tty, .send_stdin = in, .want_output = true, .detach_keys = keys});
    if (raw) raw->restore();
    if (end == HijackEnd::kDetached) {
      waiter.cancel();
      throw StatusError("read escape sequence", 1);
    }
    int status = waiter.get();
    if (status != 0) throw StatusError("", status);
    return 0;
  };
  return cmd;
}

}  // namespace berth::cli
