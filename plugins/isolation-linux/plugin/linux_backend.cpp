// The IsolationBackend verbs of isolation.linux over its task records. Over 600 lines on purpose:
// the verbs share the record store and its locking; cgroups, exit watching, the monitor launcher
// and seccomp are files of their own.
#include "plugin/linux_backend.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <thread>

#include "common/create_config.hpp"
#include "common/oci_spec.hpp"
#include "common/protocol.hpp"
#include "common/sys_util.hpp"
#include "plugin/monitor_client.hpp"

namespace berth::plugins::isolation {
namespace {

namespace json = boost::json;

constexpr int kSetupTimeoutMs = 180'000;
constexpr int kRequestTimeoutMs = 30'000;

sdk::Error invalid(std::string message) {
  return sdk::make_error(sdk::ErrorCode::kInvalidArgument, std::move(message));
}
sdk::Error not_found(std::string_view id) {
  return sdk::make_error(sdk::ErrorCode::kNotFound, "no such task: " + std::string(id));
}
std::string short_id(std::string_view id) { return std::string(id.substr(0, 12)); }

// The directory holding this plugin's .so, found from one of its own addresses.
std::string own_directory() {
  Dl_info info{};
  static const int anchor = 0;
  if (::dladdr(&anchor, &info) == 0 || info.dli_fname == nullptr) return "";
  char resolved[PATH_MAX];
  std::string path = info.dli_fname;
  if (::realpath(path.c_str(), resolved) != nullptr) path = resolved;
  return path.substr(0, path.rfind('/'));
}

std::string lexically_clean(std::string path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) != nullptr) return resolved;
  return path;
}

struct ExitRecord {
  int pid = 0;
  int exit_code = 0;
  bool oom_killed = false;
  int64_t started_at = 0;
  int64_t exited_at = 0;
};

std::optional<ExitRecord> read_exit(const std::string& dir) {
  auto text = read_file(dir + "/" + std::string(kExitFile));
  if (!text) return std::nullopt;
  ExitRecord r;
  auto num = [&](std::string_view key) {
    auto v = find_key(*text, key, '=');
    return v ? parse_int64(*v).value_or(0) : 0;
  };
  r.pid = static_cast<int>(num("pid"));
  r.exit_code = static_cast<int>(num("exit_code"));
  r.oom_killed = num("oom_killed") != 0;
  r.started_at = num("started_at");
  r.exited_at = num("exited_at");
  return r;
}

std::string record_to_json(const LinuxBackend::TaskRecord& r) {
  return json::serialize(json::object{{"id", r.id},
                                      {"bundle", r.bundle},
                                      {"cgroup", r.cgroup},
                                      {"pid", r.pid},
                                      {"monitor_pid", r.monitor_pid},
                                      {"monitor_start_time", r.monitor_start_time},
                                      {"terminal", r.terminal},
                                      {"pid_namespace", r.pid_namespace},
                                      {"created_at", r.created_at},
                                      {"creating", r.creating}});
}

sdk::Result<LinuxBackend::TaskRecord> record_from_json(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return sdk::make_error(sdk::ErrorCode::kInternal, "task record is not valid JSON");
  }
  const auto& o = v.get_object();
  LinuxBackend::TaskRecord r;
  auto str = [&](const char* k) {
    const auto* x = o.if_contains(k);
    return x != nullptr && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  auto num = [&](const char* k) -> int64_t {
    const auto* x = o.if_contains(k);
    if (x == nullptr) return 0;
    if (x->is_int64()) return x->get_int64();
    if (x->is_uint64()) return static_cast<int64_t>(x->get_uint64());
    return 0;
  };
  auto flag = [&](const char* k) {
    const auto* x = o.if_contains(k);
    return x != nullptr && x->is_bool() && x->get_bool();
  };
  r.id = str("id");
  r.bundle = str("bundle");
  r.cgroup = str("cgroup");
  r.pid = static_cast<int>(num("pid"));
  r.monitor_pid = static_cast<int>(num("monitor_pid"));
  r.monitor_start_time = static_cast<uint64_t>(num("monitor_start_time"));
  r.terminal = flag("terminal");
  r.pid_namespace = flag("pid_namespace");
  r.created_at = num("created_at");
  r.creating = flag("creating");
  return r;
}

// The container's interfaces but lo, from its network namespace's /proc/<pid>/net/dev.
std::vector<sdk::CgroupStats::Network> network_stats(int pid) {
  std::vector<sdk::CgroupStats::Network> nets;
  auto text = read_file("/proc/" + std::to_string(pid) + "/net/dev");
  if (!text) return nets;
  auto lines = split(*text, '\n');
  for (size_t i = 2; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(trim(lines[i].substr(0, colon)));
    if (name == "lo") continue;
    auto f = split(lines[i].substr(colon + 1), ' ');
    if (f.size() < 12) continue;
    auto n = [&](size_t k) { return parse_uint64(f[k]).value_or(0); };
    nets.push_back({std::move(name), n(0), n(1), n(2), n(3), n(8), n(9), n(10), n(11)});
  }
  return nets;
}

}  // namespace

LinuxBackend::LinuxBackend(Config config, std::string state_dir, std::string monitor_path,
                           std::string init_path, std::unique_ptr<CgroupManager> cgroups,
                           sdk::Logger* log, sdk::TaskExitSink* exits)
    : config_(std::move(config)),
      state_dir_(std::move(state_dir)),
      monitor_path_(std::move(monitor_path)),
      init_path_(std::move(init_path)),
      cgroups_(std::move(cgroups)),
      log_(log),
      exits_(exits),
      launcher_(monitor_path_) {}

LinuxBackend::~LinuxBackend() {
  // Monitors and containers live on: only this instance's watcher thread stops.
  watcher_.reset();
}

sdk::Result<std::unique_ptr<LinuxBackend>> LinuxBackend::create(const sdk::InitContext& ctx) {
  auto config = parse_config(ctx.config_json);
  if (!config) return std::move(config).error();
  if (ctx.state_dir.empty()) return invalid("isolation.linux: no state directory");
  if (::geteuid() != 0) {
    return sdk::make_error(sdk::ErrorCode::kUnsupported, "isolation.linux needs root");
  }
  const std::string here = own_directory();
  std::string monitor = config->monitor_path;
  if (monitor.empty()) monitor = lexically_clean(here + "/../berth-monitor");
  if (::access(monitor.c_str(), X_OK) != 0) {
    return sdk::make_error(sdk::ErrorCode::kUnsupported,
                           "berth-monitor not found or not executable at " + monitor +
                               " (install it next to the plugins directory, or set "
                               "\"monitor-path\")");
  }
  std::string init = config->init_path;
  if (init.empty()) init = lexically_clean(here + "/../berth-init");
  std::vector<std::string> cgroup_notes;
  auto cgroups = make_cgroup_manager(config->cgroup_v2_root, config->cgroup_layout, cgroup_notes);
  if (!cgroups) return std::move(cgroups).error();
  if (ctx.log != nullptr) {
    for (const auto& note : cgroup_notes) ctx.log->info("cgroup v2: " + note);
  }
  std::string state = ctx.state_dir;
  while (state.size() > 1 && state.back() == '/') state.pop_back();
  if (auto s = make_dirs(state + "/tasks", 0700); !s) return std::move(s).error();

  std::unique_ptr<LinuxBackend> backend(new LinuxBackend(std::move(*config), std::move(state),
                                                         std::move(monitor), std::move(init),
                                                         std::move(*cgroups), ctx.log, ctx.task_exits));
  LinuxBackend* self = backend.get();
  backend->watcher_ = std::make_unique<ExitWatcher>(
      ctx.task_exits, ctx.log, [self](const std::string& id) { self->on_monitor_lost(id); });
  if (auto s = backend->watcher_->start(); !s) return std::move(s).error();
  backend->adopt();
  return backend;
}

sdk::DriverInfo LinuxBackend::info() {
  sdk::DriverInfo info;
  info.name = "linux";
  info.capabilities = {
      cgroups_->version() == 2 ? "cgroup2" : "cgroup1", "seccomp", "pause", "tty", "exec", "init"};
  info.status = {{"Cgroup Version", std::to_string(cgroups_->version())},
                 {"Cgroup Driver", "cgroupfs"},
                 {"Cgroup Parent", config_.cgroup_parent},
                 {"Monitor", monitor_path_},
                 {"Init", ::access(init_path_.c_str(), X_OK) == 0 ? init_path_ : "(not found)"}};
  return info;
}

std::string LinuxBackend::tasks_dir() const { return state_dir_ + "/tasks"; }
std::string LinuxBackend::task_dir(std::string_view id) const {
  return tasks_dir() + "/" + std::string(id);
}

sdk::Result<LinuxBackend::TaskRecord> LinuxBackend::load(std::string_view id) const {
  if (!valid_token(id)) return not_found(id);
  auto text = read_file(task_dir(id) + "/" + std::string(kTaskFile));
  if (!text) return not_found(id);
  auto record = record_from_json(*text);
  if (record && record->creating) return not_found(id);  // not created (yet, or ever)
  return record;
}

sdk::Result<sdk::TaskState> LinuxBackend::state_of(const TaskRecord& record) const {
  sdk::TaskState st;
  st.id = record.id;
  st.pid = record.pid;
  const std::string dir = task_dir(record.id);
  auto from_exit = [&](const ExitRecord& e) {
    st.status = sdk::TaskStatus::kStopped;
    st.exit_code = e.exit_code;
    st.oom_killed = e.oom_killed;
    st.started_at_unix_nano = e.started_at;
    st.exited_at_unix_nano = e.exited_at;
    return st;
  };
  if (auto e = read_exit(dir)) return from_exit(*e);
  auto reply = monitor_request(dir, "state", kRequestTimeoutMs);
  if (reply) {
    auto words = split(*reply, ' ');
    std::string_view status = words.empty() ? "" : words[0];
    if (words.size() > 2) st.started_at_unix_nano = parse_int64(words[2]).value_or(0);
    if (status == "created") {
      st.status = sdk::TaskStatus::kCreated;
      return st;
    }
    if (status == "running") {
      auto frozen = cgroups_->frozen(record.cgroup);
      st.status = frozen && *frozen ? sdk::TaskStatus::kPaused : sdk::TaskStatus::kRunning;
      return st;
    }
  }
  // Gone or finishing: the exit file is written before the socket disappears.
  if (auto e = read_exit(dir)) return from_exit(*e);
  if (reply || !monitor_alive(record.monitor_pid, record.monitor_start_time)) {
    st.status = sdk::TaskStatus::kStopped;
    st.exit_code = 255;  // the monitor died without recording an exit
    return st;
  }
  return std::move(reply).error().wrap("state of container " + short_id(record.id));
}

sdk::Status LinuxBackend::require_running(const TaskRecord& record, std::string_view verb) const {
  auto st = state_of(record);
  if (!st) return std::move(st).error();
  if (st->status == sdk::TaskStatus::kPaused) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition, "container " + short_id(record.id) +
                                                                    " is paused, unpause the "
                                                                    "container before " +
                                                                    std::string(verb));
  }
  if (st->status != sdk::TaskStatus::kRunning) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                           "container " + short_id(record.id) + " is not running");
  }
  return {};
}

sdk::Result<int> LinuxBackend::create(sdk::Context& /*ctx*/, std::string_view id_view,
                                      const sdk::CreateSpec& spec) {
  const std::string id(id_view);
  const std::string what = "create container " + short_id(id);
  if (!valid_token(id)) return invalid(what + ": invalid id \"" + id + "\"");
  // The OCI spec is parsed here once; the setup child parses what create.json carries of it
  // (without linux.seccomp, compiled here and handed over as a program).
  json::error_code ec;
  json::value oci_value = json::parse(spec.oci_json, ec);
  if (ec) {
    return invalid(what + ": oci spec: not valid JSON: " + ec.message());
  }
  auto oci = parse_spec(oci_value);
  if (!oci) return std::move(oci).error().wrap(what);
  if (auto* lx = oci_value.get_object().if_contains("linux"); lx != nullptr && lx->is_object()) {
    lx->get_object().erase("seccomp");
  }
  struct stat st {};
  if (spec.bundle.empty() || spec.bundle.front() != '/' || ::stat(spec.bundle.c_str(), &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return invalid(what + ": bundle \"" + spec.bundle + "\" is not a directory");
  }
  if (spec.rootfs.empty()) {
    std::string root = oci->root_path;
    if (root.empty() || root.front() != '/') root = spec.bundle + "/" + root;
    if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return invalid(what + ": no rootfs mounts and root.path " + root + " is not a directory");
    }
  }
  if (const auto* user = oci->find_namespace("user"); user != nullptr && user->path.empty()) {
    if (oci->uid_mappings.empty() || oci->gid_mappings.empty()) {
      return invalid(what + ": a new user namespace needs uidMappings and gidMappings");
    }
  }
  for (const auto& limit : oci->process.rlimits) {
    struct rlimit current {};
    if (::getrlimit(limit.resource, &current) == 0 && current.rlim_max != RLIM_INFINITY &&
        (limit.hard == RLIM_INFINITY || limit.hard > current.rlim_max)) {
      return invalid(what + ": rlimit " + limit.type + ": hard limit " +
                     std::to_string(limit.hard) + " is above the current hard limit " +
                     std::to_string(current.rlim_max) +
                     " (raising it needs CAP_SYS_RESOURCE, which berthd does not have)");
    }
  }
  if (spec.init && ::access(init_path_.c_str(), X_OK) != 0) {
    return sdk::make_error(sdk::ErrorCode::kUnsupported,
                           what + ": berth-init not found at " + init_path_);
  }
  std::string cgroup =
      oci->cgroups_path.empty() ? config_.cgroup_parent + "/" + id : oci->cgroups_path;
  while (!cgroup.empty() && cgroup.front() == '/') cgroup.erase(0, 1);
  if (cgroup.empty() || cgroup.find("..") != std::string::npos) {
    return invalid(what + ": invalid cgroupsPath \"" + oci->cgroups_path + "\"");
  }
  const bool terminal = spec.stdio.terminal || oci->process.terminal;
  std::shared_ptr<const std::string> seccomp;
  if (oci->seccomp) {
    auto program = seccomp_cache_.program(*oci->seccomp);
    if (!program) return std::move(program).error().wrap(what);
    seccomp = std::move(*program);
  }

  const std::string dir = task_dir(id);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return sdk::make_error(sdk::ErrorCode::kAlreadyExists, what + ": it already exists");
    }
    return sdk::errno_error(what + ": mkdir " + dir);
  }
  const bool pid_namespace = oci->find_namespace("pid") != nullptr;
  TaskRecord record;
  record.id = id;
  record.bundle = spec.bundle;
  record.cgroup = cgroup;
  record.terminal = terminal;
  record.pid_namespace = pid_namespace;
  record.created_at = now_unix_nano();
  record.creating = true;
  // Recorded before anything is made (the cgroups first), so a berthd dying from here on leaves
  // a record that adopt() cleans up: a kill between the cgroups and the record once left an
  // empty cgroup nobody knew of.
  if (auto s = write_file_atomic(dir + "/" + std::string(kTaskFile), record_to_json(record)); !s) {
    (void)remove_tree(dir);
    return std::move(s).error().wrap(what);
  }
  MonitorProcess monitor;
  // From here on a failure removes everything made so far.
  auto fail = [&](sdk::Error error) {
    // A monitor that started holds a live (held) process: end it so the monitor finishes.
    if (monitor.pid > 0) {
      (void)monitor_request(dir, "kill - " + std::to_string(SIGKILL), kRequestTimeoutMs);
    }
    destroy(id, cgroup, monitor.pid, monitor.start_time);
    return std::move(error).wrap(what);
  };
  sdk::Status made;
  {
    std::lock_guard lock(parents_mu_);
    std::vector<std::string> created;
    made = cgroups_->create(cgroup, oci->resources, created);
    if (made) record_parents(created, cgroup);
  }
  if (!made) return fail(made.error());

  CreateConfig cc;
  cc.id = id;
  cc.bundle = spec.bundle;
  cc.oci = std::move(oci_value);
  cc.rootfs = spec.rootfs;
  cc.init_path = spec.init ? init_path_ : "";
  cc.terminal = terminal;
  cc.cgroup = cgroups_->placement(cgroup);
  std::string conf;
  conf += "terminal " + std::string(terminal ? "1" : "0") + "\n";
  conf += "stdin " + std::string(spec.stdio.stdin ? "1" : "0") + "\n";
  conf += "stdin_once " + std::string(spec.stdio.stdin_once ? "1" : "0") + "\n";
  if (!spec.log.path.empty()) {
    conf += "log_path " + one_line(spec.log.path) + "\n";
    conf += "log_max_size " + std::to_string(spec.log.max_size) + "\n";
    conf += "log_max_files " + std::to_string(spec.log.max_files) + "\n";
  }
  conf += "pid_namespace " + std::string(pid_namespace ? "1" : "0") + "\n";
  conf += "procs_file " + cgroups_->procs_file(cgroup) + "\n";
  if (auto k = cgroups_->kill_file(cgroup); !k.empty()) conf += "kill_file " + k + "\n";
  if (auto o = cgroups_->oom_file(cgroup); !o.empty()) conf += "oom_file " + o + "\n";
  // Handed over in memfds rather than files: the monitor keeps them for every exec, and the
  // task directory gets no files that only one process ever reads.
  MonitorInputs inputs;
  inputs.config = conf;
  inputs.create_config = create_config_to_json(cc);
  if (seccomp) inputs.seccomp = *seccomp;

  auto spawned = launcher_.launch(dir, inputs, kSetupTimeoutMs);
  if (!spawned) return fail(spawned.error());
  monitor = *spawned;
  auto sub = monitor_stream(dir, "subscribe", kRequestTimeoutMs);
  if (!sub) return fail(sub.error().wrap("subscribe to monitor"));

  record.pid = monitor.container_pid;
  record.monitor_pid = monitor.pid;
  record.monitor_start_time = monitor.start_time;
  record.creating = false;
  if (auto s = write_file_atomic(dir + "/" + std::string(kTaskFile), record_to_json(record)); !s) {
    return fail(s.error());
  }
  watcher_->add(id, std::move(sub->fd));
  if (log_ != nullptr) {
    log_->debug(
        "container created",
        {{"container", short_id(id)}, {"pid", std::to_string(record.pid)}, {"cgroup", cgroup}});
  }
  return record.pid;
}

sdk::Status LinuxBackend::start(sdk::Context& /*ctx*/, std::string_view id,
                                std::string_view exec_id) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  if (!exec_id.empty() && !valid_token(exec_id)) {
    return invalid("invalid exec id \"" + std::string(exec_id) + "\"");
  }
  const std::string target = exec_id.empty() ? std::string(kMainExec) : std::string(exec_id);
  auto reply = monitor_request(task_dir(id), "start " + target, kSetupTimeoutMs);
  if (!reply) {
    if (reply.error().code == sdk::ErrorCode::kUnavailable) {
      return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                             "container " + short_id(id) + " is not running");
    }
    return std::move(reply).error();
  }
  return {};
}

sdk::Result<sdk::TaskState> LinuxBackend::state(sdk::Context& /*ctx*/, std::string_view id) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  return state_of(*record);
}

sdk::Status LinuxBackend::kill(sdk::Context& /*ctx*/, std::string_view id, int signal, bool all) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  if (signal < 0 || signal >= NSIG) return invalid("invalid signal " + std::to_string(signal));
  auto st = state_of(*record);
  if (!st) return std::move(st).error();
  if (st->status == sdk::TaskStatus::kStopped) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                           "container " + short_id(id) + " is not running");
  }
  if (all && st->status != sdk::TaskStatus::kCreated) {
    BERTH_TRY_STATUS(cgroups_->kill_all(record->cgroup, signal));
  } else {
    auto reply =
        monitor_request(task_dir(id), "kill - " + std::to_string(signal), kRequestTimeoutMs);
    if (!reply) {
      if (reply.error().code == sdk::ErrorCode::kUnavailable ||
          reply.error().code == sdk::ErrorCode::kFailedPrecondition) {
        return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                               "container " + short_id(id) + " is not running");
      }
      return std::move(reply).error();
    }
  }
  // A frozen process cannot die: SIGKILL on a paused container thaws it so the kill lands.
  if (signal == SIGKILL && st->status == sdk::TaskStatus::kPaused) {
    (void)cgroups_->thaw(record->cgroup);
  }
  return {};
}

sdk::Status LinuxBackend::pause(sdk::Context& /*ctx*/, std::string_view id) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  BERTH_TRY_STATUS(require_running(*record, "pausing"));
  if (auto s = cgroups_->freeze(record->cgroup); !s) {
    return std::move(s).error().wrap("pause container " + short_id(id));
  }
  return {};
}

sdk::Status LinuxBackend::resume(sdk::Context& /*ctx*/, std::string_view id) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  auto st = state_of(*record);
  if (!st) return std::move(st).error();
  if (st->status != sdk::TaskStatus::kPaused) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                           "container " + short_id(id) + " is not paused");
  }
  if (auto s = cgroups_->thaw(record->cgroup); !s) {
    return std::move(s).error().wrap("resume container " + short_id(id));
  }
  return {};
}

sdk::Result<int> LinuxBackend::exec(sdk::Context& /*ctx*/, std::string_view id,
                                    std::string_view exec_id, const sdk::ExecSpec& spec) {
  const std::string what = "exec in container " + short_id(id);
  if (!valid_token(exec_id))
    return invalid(what + ": invalid exec id \"" + std::string(exec_id) + "\"");
  auto process = parse_process(spec.process_json);
  if (!process) return std::move(process).error().wrap(what);
  auto record = load(id);
  if (!record) return std::move(record).error();
  BERTH_TRY_STATUS(require_running(*record, "exec"));
  const std::string dir = task_dir(id);
  const std::string file = dir + "/exec-" + std::string(exec_id) + ".json";
  if (auto s = write_file_atomic(file, spec.process_json); !s)
    return std::move(s).error().wrap(what);
  const bool terminal = spec.stdio.terminal || process->terminal;
  auto reply = monitor_request(dir,
                               "exec " + std::string(exec_id) + " " + (terminal ? "1" : "0") + " " +
                                   (spec.stdio.stdin ? "1" : "0") + " " +
                                   (spec.stdio.stdin_once ? "1" : "0"),
                               kSetupTimeoutMs);
  ::unlink(file.c_str());
  if (!reply) return std::move(reply).error().wrap(what);
  auto pid = parse_int64(*reply);
  if (!pid) return sdk::make_error(sdk::ErrorCode::kInternal, what + ": bad monitor answer");
  return static_cast<int>(*pid);
}

sdk::Result<int> LinuxBackend::attach(sdk::Context& /*ctx*/, std::string_view id,
                                      std::string_view exec_id, const sdk::AttachOptions& options) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  if (!exec_id.empty() && !valid_token(exec_id)) {
    return invalid("invalid exec id \"" + std::string(exec_id) + "\"");
  }
  const std::string target = exec_id.empty() ? std::string(kMainExec) : std::string(exec_id);
  auto stream =
      monitor_stream(task_dir(id),
                     "attach " + target + " " + (options.stdin ? "1" : "0") + " " +
                         (options.stdout ? "1" : "0") + " " + (options.stderr ? "1" : "0"),
                     kRequestTimeoutMs);
  if (!stream) {
    if (stream.error().code == sdk::ErrorCode::kUnavailable ||
        stream.error().code == sdk::ErrorCode::kFailedPrecondition) {
      return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                             "container " + short_id(id) + " is not running");
    }
    return std::move(stream).error();
  }
  return stream->fd.release();
}

sdk::Status LinuxBackend::resize(sdk::Context& /*ctx*/, std::string_view id,
                                 std::string_view exec_id, uint32_t rows, uint32_t cols) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  if (!exec_id.empty() && !valid_token(exec_id)) {
    return invalid("invalid exec id \"" + std::string(exec_id) + "\"");
  }
  if (rows > 65535 || cols > 65535) return invalid("terminal size out of range");
  const std::string target = exec_id.empty() ? std::string(kMainExec) : std::string(exec_id);
  auto reply = monitor_request(
      task_dir(id), "resize " + target + " " + std::to_string(rows) + " " + std::to_string(cols),
      kRequestTimeoutMs);
  if (!reply) {
    if (reply.error().code == sdk::ErrorCode::kUnavailable) {
      return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                             "container " + short_id(id) + " is not running");
    }
    return std::move(reply).error();
  }
  return {};
}

sdk::Status LinuxBackend::update(sdk::Context& /*ctx*/, std::string_view id,
                                 std::string_view resources_json) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  auto resources = parse_resources(resources_json);
  if (!resources) return std::move(resources).error();
  if (auto s = cgroups_->update(record->cgroup, *resources); !s) {
    return std::move(s).error().wrap("update container " + short_id(id));
  }
  return {};
}

sdk::Result<sdk::CgroupStats> LinuxBackend::stats(sdk::Context& /*ctx*/, std::string_view id) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  auto out = cgroups_->stats(record->cgroup);
  if (!out) return std::move(out).error().wrap("stats of container " + short_id(id));
  auto st = state_of(*record);
  if (st && (st->status == sdk::TaskStatus::kRunning || st->status == sdk::TaskStatus::kPaused)) {
    out->networks = network_stats(record->pid);
  }
  return out;
}

sdk::Result<std::vector<int>> LinuxBackend::pids(sdk::Context& /*ctx*/, std::string_view id) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  auto pids = cgroups_->pids(record->cgroup);
  if (!pids) return std::move(pids).error().wrap("pids of container " + short_id(id));
  std::sort(pids->begin(), pids->end());
  return pids;
}

sdk::Result<sdk::TaskState> LinuxBackend::remove(sdk::Context& /*ctx*/, std::string_view id) {
  auto record = load(id);
  if (!record) return std::move(record).error();
  auto st = state_of(*record);
  if (!st) return std::move(st).error();
  if (st->status == sdk::TaskStatus::kRunning || st->status == sdk::TaskStatus::kPaused) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition,
                           "container " + short_id(id) + " is running: stop it before removing it");
  }
  const std::string dir = task_dir(id);
  if (st->status == sdk::TaskStatus::kCreated) {
    // Never started: its held process goes, and its exit is reported like any other.
    (void)monitor_request(dir, "kill - " + std::to_string(SIGKILL), kRequestTimeoutMs);
    for (int i = 0; i < 2000 && !read_exit(dir) &&
                    monitor_alive(record->monitor_pid, record->monitor_start_time);
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (auto again = state_of(*record)) st = std::move(again);
  }
  // The exit line may still be on its way through the subscription: let it be emitted first.
  (void)watcher_->wait_gone(record->id, std::chrono::seconds(5));
  destroy(record->id, record->cgroup, record->monitor_pid, record->monitor_start_time);
  st->status = sdk::TaskStatus::kStopped;
  return st;
}

sdk::Result<std::vector<sdk::TaskState>> LinuxBackend::list(sdk::Context& /*ctx*/) {
  std::vector<sdk::TaskState> out;
  DIR* d = ::opendir(tasks_dir().c_str());
  if (d == nullptr) return out;
  std::vector<std::string> ids;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ids.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) {
    auto record = load(id);
    if (!record) continue;  // a create still in progress
    auto st = state_of(*record);
    if (st) out.push_back(std::move(*st));
  }
  return out;
}

void LinuxBackend::destroy(const std::string& id, const std::string& cgroup, int monitor_pid,
                           uint64_t monitor_start_time) {
  watcher_->forget(id);
  if (monitor_pid > 0) {
    if (!wait_monitor_exit(monitor_pid, monitor_start_time, 10'000, true) && log_ != nullptr) {
      log_->warn("monitor did not exit", {{"container", short_id(id)}});
    }
  }
  if (!cgroup.empty()) {
    if (auto s = cgroups_->destroy(cgroup); !s && log_ != nullptr) {
      log_->warn("remove cgroup: " + s.error().message, {{"container", short_id(id)}});
    }
    release_parents(cgroup);
  }
  if (auto s = remove_tree(task_dir(id)); !s && log_ != nullptr) {
    log_->warn("remove task state: " + s.error().message, {{"container", short_id(id)}});
  }
}

void LinuxBackend::record_parents(const std::vector<std::string>& created,
                                  const std::string& task_cgroup) {
  std::string text;
  for (const auto& dir : created) {
    const std::string suffix = "/" + task_cgroup;
    if (dir.size() >= suffix.size() &&
        dir.compare(dir.size() - suffix.size(), suffix.size(), suffix) == 0) {
      continue;  // the task's own directory
    }
    text += dir + "\n";
  }
  if (text.empty()) return;
  const std::string file = state_dir_ + "/cgroup-parents";
  auto existing = read_file(file);
  (void)write_file_atomic(file, (existing ? *existing : std::string()) + text);
}

void LinuxBackend::release_parents(const std::string& /*cgroup*/) {
  std::lock_guard lock(parents_mu_);
  const std::string file = state_dir_ + "/cgroup-parents";
  auto existing = read_file(file);
  if (!existing) return;
  std::vector<std::string> dirs;
  for (auto line : split(*existing, '\n')) dirs.emplace_back(line);
  // Deepest first, so a parent of a parent can go in the same pass.
  std::sort(dirs.begin(), dirs.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::string keep;
  for (const auto& dir : dirs) {
    if (!remove_cgroup_dir_if_empty(dir)) keep += dir + "\n";
  }
  if (keep.empty()) {
    ::unlink(file.c_str());
  } else if (keep != *existing) {
    (void)write_file_atomic(file, keep);
  }
}

void LinuxBackend::adopt() {
  DIR* d = ::opendir(tasks_dir().c_str());
  if (d == nullptr) return;
  std::vector<std::string> ids;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ids.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const auto& id : ids) {
    if (!valid_token(id)) continue;
    auto text = read_file(task_dir(id) + "/" + std::string(kTaskFile));
    auto record = text ? record_from_json(*text) : sdk::Result<TaskRecord>(not_found(id));
    if (!record) {
      // A create killed before its first record: nothing was made yet but the directory.
      if (!text) (void)remove_tree(task_dir(id));
      continue;
    }
    if (record->creating) {
      cleanup_half_created(*record);
      continue;
    }
    const std::string dir = task_dir(id);
    if (read_exit(dir)) continue;  // exited while nobody watched: list() reports it
    auto sub = monitor_stream(dir, "subscribe", kRequestTimeoutMs);
    if (!sub) continue;  // gone too: state() reports it stopped
    if (sub->data == "exited") continue;
    watcher_->add(id, std::move(sub->fd));
    if (log_ != nullptr) log_->info("re-adopted container", {{"container", short_id(id)}});
  }
}

void LinuxBackend::cleanup_half_created(const TaskRecord& record) {
  const std::string dir = task_dir(record.id);
  // Its monitor (if it got that far) holds a process that never ran: kill it, let it finish.
  if (monitor_request(dir, "kill - " + std::to_string(SIGKILL), kRequestTimeoutMs)) {
    for (int i = 0; i < 1000 && path_exists(dir + "/" + std::string(kSocketName)); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (log_ != nullptr) {
    log_->warn("removing a container whose creation never finished",
               {{"container", short_id(record.id)}});
  }
  destroy(record.id, record.cgroup, 0, 0);
}

void LinuxBackend::on_monitor_lost(const std::string& id) {
  auto record = load(id);
  if (!record) return;
  const std::string dir = task_dir(id);
  // The monitor writes the exit file before its last words; give a dying one a moment.
  for (int i = 0;
       i < 200 && !read_exit(dir) && monitor_alive(record->monitor_pid, record->monitor_start_time);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ExitEvent event;
  event.id = id;
  event.pid = record->pid;
  if (auto e = read_exit(dir)) {
    event.exit_code = e->exit_code;
    event.oom_killed = e->oom_killed;
    event.exited_at_unix_nano = e->exited_at;
  } else {
    // The monitor was killed: nothing records this container any more, so it is stopped for
    // good (its processes too) and reported as such.
    (void)cgroups_->kill_all(record->cgroup, SIGKILL);
    event.exit_code = 255;
    event.exited_at_unix_nano = now_unix_nano();
    (void)write_file_atomic(dir + "/" + std::string(kExitFile),
                            "pid=" + std::to_string(record->pid) + "\nexit_code=255\n" +
                                "oom_killed=0\nstarted_at=0\nexited_at=" +
                                std::to_string(event.exited_at_unix_nano) + "\n",
                            0644);
    if (log_ != nullptr) log_->warn("monitor died", {{"container", short_id(id)}});
  }
  watcher_->emit(event);
}

}  // namespace berth::plugins::isolation
