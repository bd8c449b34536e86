// Container lifecycle: start, stop, kill, pause, remove, wait, exits and restart policies,
// attach hand-off, and live restore after a daemon restart.
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <thread>

#include "berth/sdk/codec.hpp"
#include "core/common/fs.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/config/daemon_config.hpp"
#include "core/container/bind_propagation.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/oci_spec.hpp"
#include "core/container/restart_policy.hpp"
#include "core/container/task_spec.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {


// Every state change goes through the state machine: `action` moves the record's state when
// the machine allows it (kOk), and leaves it alone otherwise.
bool apply(ContainerRecord& r, Action action) {
  auto t = transition(r.state.status, action, r.id);
  if (t.kind != Transition::kOk) return false;
  r.state.status = t.next;
  return true;
}

Error conflict(std::string message) {
  return make_error(ErrorCode::kFailedPrecondition, std::move(message));
}

// The exit code dockerd records for a start that failed, from the runtime's message.
int start_failure_code(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos) {
    return 127;
  }
  if (message.find("permission denied") != std::string::npos) return 126;
  return 128;
}

}  // namespace

// ---- start ---------------------------------------------------------------------------------

Status ContainerManager::start_task(const std::shared_ptr<Container>& c) {
  ContainerRecord rec;
  {
    std::unique_lock lock(c->mutex);
    // The previous run's task may still be being released (an exit is published first): a new
    // bundle must not be created under its removal.
    if (!c->changed.wait_for(lock, std::chrono::seconds(30), [&] { return !c->task_held; })) {
      return make_error(ErrorCode::kInternal,
                        "the previous task of container " + c->record.id + " was not released after 30 s");
    }
    rec = c->record;
  }
  sdk::Context ctx;
  SpecContext spec_ctx;
  spec_ctx.cgroup_v2 = options_.cgroup_v2;
  auto placement = network_placement(rec.host_config, [this](const std::string& other)
                                         -> Result<std::pair<std::string, int>> {
    auto found = find(other);
    if (!found) return found.error();
    std::lock_guard lock((*found)->mutex);
    const auto& st = (*found)->record.state;
    return std::make_pair((*found)->record.id, st.status == State::kRunning ? st.pid : 0);
  });
  if (!placement) return placement.error();
  spec_ctx.host_network = placement->host;
  spec_ctx.netns_path = placement->netns_path;
  auto remap = userns_remap_for(rec.host_config);
  if (!remap) return remap.error();
  spec_ctx.userns_remap = *remap;
  if (std::any_of(rec.mounts.begin(), rec.mounts.end(), propagates)) {
    auto mountinfo = fs::read_file("/proc/self/mountinfo");
    if (!mountinfo) return mountinfo.error().wrap("read /proc/self/mountinfo");
    BERTH_TRY_STATUS(check_bind_propagation(rec.mounts, *mountinfo));
  }
  // Written afresh at every start, as dockerd does: the host's resolver may have changed, and the
  // files are written without fsync (a crash may leave them empty).
  BERTH_TRY_STATUS(write_etc_files(rec, *remap));
  auto rootfs = storage_.mounts(ctx, rec.storage_key);
  if (!rootfs) return rootfs.error().wrap("root filesystem");
  auto built = build_task_spec(rec, TaskInputs{spec_ctx, std::move(*rootfs), bundle_dir(rec.id),
                                               config::LogOpts{options_.log_max_size, options_.log_max_file}});
  if (!built) return built.error();
  sdk::CreateSpec& create = *built;
  // Host side effects from here: undone on the way out when the task cannot be created.
  std::vector<std::string> mounted_volumes;
  for (const auto& m : rec.mounts) {
    if (m.type != "volume") continue;
    if (auto s = volumes_.mount(m.name); !s) {
      for (const auto& v : mounted_volumes) (void)volumes_.unmount(v);
      return s.error();
    }
    mounted_volumes.push_back(m.name);
  }
  if (auto s = fs::ensure_dir(create.bundle, 0700); !s) {
    for (const auto& v : mounted_volumes) (void)volumes_.unmount(v);
    return s.error();
  }

  {
    std::lock_guard lock(c->mutex);
    c->starting = true;
    c->task_held = true;
    c->pending_exit.reset();
  }
  auto finish_starting = [&] {
    std::lock_guard lock(c->mutex);
    c->starting = false;
  };
  auto t_create = std::chrono::steady_clock::now();
  auto pid = isolation_->create(ctx, rec.id, create);
  auto t_created = std::chrono::steady_clock::now();
  if (!pid) {
    finish_starting();
    release_task(c);  // a half-created task, its bundle and the volume mounts
    return pid.error();
  }
  // Attaches that came first (docker run: attach, wait, start) get their streams before the
  // process runs, so they see all of its output.
  std::vector<std::shared_ptr<PendingAttach>> waiting;
  {
    std::lock_guard lock(mutex_);
    {
      std::lock_guard cl(c->mutex);
      c->task_ready = true;
    }
    if (auto it = pending_attaches_.find(rec.id); it != pending_attaches_.end()) {
      waiting = std::move(it->second);
      pending_attaches_.erase(it);
    }
  }
  for (auto& w : waiting) {
    auto fd = isolation_->attach(ctx, rec.id, "", w->options);
    std::lock_guard lock(mutex_);
    if (fd) w->result.emplace(UniqueFd(*fd));
    else w->result.emplace(fd.error());
  }
  if (!waiting.empty()) attach_ready_.notify_all();

  auto t_start = std::chrono::steady_clock::now();
  auto started = isolation_->start(ctx, rec.id, "");
  logging::get("container")->debug(
      "task {}: create {:.1f} ms, attach {:.1f} ms, start {:.1f} ms", rec.short_id(),
      std::chrono::duration<double, std::milli>(t_created - t_create).count(),
      std::chrono::duration<double, std::milli>(t_start - t_created).count(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count());
  if (!started) {
    std::string message = started.error().message;
    int code = start_failure_code(message);
    {
      std::lock_guard lock(c->mutex);
      auto t = transition(c->record.state.status, Action::kStartFailed, rec.id);
      c->record.state.status = t.next;
      c->record.state.error = message;
      c->record.state.exit_code = code;
      c->starting = false;
      c->task_ready = false;
      c->pending_exit.reset();
      ++c->exits;
      (void)persist(*c);
    }
    c->changed.notify_all();
    attach_ready_.notify_all();
    release_task(c);
    Error e = started.error();
    e.message = "failed to create task for container: " + message;
    if (code == 127 || code == 126) e.code = ErrorCode::kInvalidArgument;
    return e;
  }
  std::optional<ExitInfo> early_exit;
  {
    std::lock_guard lock(c->mutex);
    auto& s = c->record.state;
    auto t = transition(s.status, Action::kStarted, rec.id);
    s.status = t.next;
    s.pid = *pid;
    s.started_at = now_unix_nano();
    s.has_been_started = true;
    s.error.clear();
    s.oom_killed = false;
    c->stop_requested = false;
    c->starting = false;
    early_exit = std::move(c->pending_exit);
    c->pending_exit.reset();
    (void)persist(*c);
  }
  c->changed.notify_all();
  publish(*c, "start");
  if (early_exit) {
    auto info = *early_exit;
    post([this, c, info] { handle_exit(c, info); });
  }
  return {};
}

Result<Done> ContainerManager::start(std::string_view name) {
  auto c = find(name);
  if (!c) return c.error();
  std::lock_guard op((*c)->op);
  {
    std::lock_guard lock((*c)->mutex);
    auto t = transition((*c)->record.state.status, Action::kStart, (*c)->record.id);
    if (t.kind == Transition::kNoop) return Done::kNotModified;
    if (t.kind == Transition::kConflict) return conflict(t.message);
    (*c)->record.state.manually_stopped = false;
    ++(*c)->restart_generation;  // a pending automatic restart is superseded
  }
  auto s = start_task(*c);
  if (!s) {
    bool remove_after;
    {
      std::lock_guard lock((*c)->mutex);
      remove_after = (*c)->record.auto_remove();
    }
    // docker run --rm waits for the removal even when the start failed.
    if (remove_after) post([this, c = *c] { auto_remove(c); });
    return s.error();
  }
  return Done::kChanged;
}

// ---- exits and restarts --------------------------------------------------------------------

std::optional<std::chrono::milliseconds> ContainerManager::record_exit_locked(Container& c,
                                                                              const ExitInfo& info) {
  auto& s = c.record.state;
  s.exit_code = info.exit_code;
  s.oom_killed = info.oom_killed;
  s.finished_at = info.exited_at;
  s.pid = 0;
  c.task_ready = false;
  RunEnd end;
  end.exit_code = info.exit_code;
  end.ran_ms = (s.finished_at - s.started_at) / 1000000;
  end.stop_requested = c.stop_requested;
  end.manually_stopped = s.manually_stopped;
  end.removing = s.status == State::kRemoving || s.status == State::kDead;
  end.restart_count = s.restart_count;
  auto decision = decide_restart({c.record.restart_policy(), c.record.max_retries()}, end, c.backoff_ms);
  c.backoff_ms = decision.backoff_ms;
  bool restart = decision.restart;
  auto t = transition(s.status, restart ? Action::kRestartLater : Action::kExited, c.record.id);
  s.status = t.next;
  ++c.exits;
  if (restart) {
    ++s.restart_count;
    return decision.delay;
  }
  return std::nullopt;
}

void ContainerManager::handle_exit(const std::shared_ptr<Container>& c, ExitInfo info) {
  std::optional<std::chrono::milliseconds> restart;
  {
    std::lock_guard lock(c->mutex);
    if (c->starting) {
      c->pending_exit = info;
      return;
    }
    auto st = c->record.state.status;
    if (st != State::kRunning && st != State::kPaused) return;  // already handled (stale event)
    restart = record_exit_locked(*c, info);
    (void)persist(*c);
  }
  c->changed.notify_all();
  after_exit(c, info, restart);
}

void ContainerManager::after_exit(const std::shared_ptr<Container>& c, const ExitInfo& info,
                                  std::optional<std::chrono::milliseconds> restart) {
  if (info.oom_killed) publish(*c, "oom");
  publish(*c, "die", {{"exitCode", std::to_string(info.exit_code)}});
  release_task(c);
  attach_ready_.notify_all();
  if (restart) {
    uint64_t generation;
    {
      std::lock_guard lock(c->mutex);
      generation = c->restart_generation;
    }
    schedule_restart(c, *restart, generation);
    return;
  }
  bool auto_rm;
  {
    std::lock_guard lock(c->mutex);
    auto_rm = c->record.auto_remove() && !c->stop_requested_for_removal;
  }
  if (auto_rm) auto_remove(c);
}

void ContainerManager::release_task(const std::shared_ptr<Container>& c) {
  std::string id;
  std::vector<std::string> volumes;
  {
    std::lock_guard lock(c->mutex);
    id = c->record.id;
    for (const auto& m : c->record.mounts) {
      if (m.type == "volume") volumes.push_back(m.name);
    }
  }
  if (isolation_ != nullptr) {
    sdk::Context ctx;
    if (auto r = isolation_->remove(ctx, id); !r && r.error().code != ErrorCode::kNotFound) {
      logging::get("container")->warn("release task {}: {}", id.substr(0, 12), r.error().message);
    }
  }
  for (const auto& v : volumes) (void)volumes_.unmount(v);
  std::error_code ec;
  std::filesystem::remove_all(bundle_dir(id), ec);
  {
    std::lock_guard lock(c->mutex);
    c->task_held = false;
  }
  c->changed.notify_all();
}

void ContainerManager::schedule_restart(const std::shared_ptr<Container>& c,
                                        std::chrono::milliseconds delay, uint64_t generation) {
  std::lock_guard lock(jobs_mutex_);
  timers_.push_back({std::chrono::steady_clock::now() + delay, [this, c, generation] {
                       std::lock_guard op(c->op);
                       {
                         std::lock_guard lock(c->mutex);
                         if (c->restart_generation != generation || c->removed ||
                             c->record.state.status != State::kRestarting) {
                           return;
                         }
                       }
                       if (auto s = start_task(c); !s) {
                         // A restart that cannot start counts as a failed run.
                         ExitInfo info{start_failure_code(s.error().message), false, now_unix_nano(), 0};
                         std::optional<std::chrono::milliseconds> again;
                         {
                           std::lock_guard lock(c->mutex);
                           again = record_exit_locked(*c, info);
                           c->record.state.error = s.error().message;
                           (void)persist(*c);
                         }
                         c->changed.notify_all();
                         after_exit(c, info, again);
                       }
                     }});
  jobs_cv_.notify_all();
}

void ContainerManager::auto_remove(const std::shared_ptr<Container>& c) {
  std::string id;
  {
    std::lock_guard lock(c->mutex);
    if (c->removed) return;
    id = c->record.id;
  }
  if (auto s = remove(id, true, true); !s && s.error().code != ErrorCode::kNotFound) {
    logging::get("container")->warn("auto-remove {}: {}", id.substr(0, 12), s.error().message);
  }
}

// ---- stop, kill, pause ---------------------------------------------------------------------

Status ContainerManager::kill_task(Container& c, int signal, bool all) {
  std::string id;
  bool paused;
  {
    std::lock_guard lock(c.mutex);
    id = c.record.id;
    paused = c.record.state.status == State::kPaused;
  }
  sdk::Context ctx;
  BERTH_TRY_STATUS(isolation_->kill(ctx, id, signal, all));
  // A frozen task only receives the signal once thawed (as dockerd does for kill and stop).
  if (paused) {
    if (isolation_->resume(ctx, id)) {
      std::lock_guard lock(c.mutex);
      if (c.record.state.status == State::kPaused) apply(c.record, Action::kUnpause);
    }
  }
  return {};
}

bool ContainerManager::wait_stopped(const std::shared_ptr<Container>& c,
                                    std::chrono::milliseconds timeout) {
  std::unique_lock lock(c->mutex);
  // Stopped means released too: a start right after must not race the old task's removal.
  auto stopped = [&] {
    auto s = c->record.state.status;
    return s != State::kRunning && s != State::kPaused && !c->task_held;
  };
  if (timeout.count() < 0) {
    c->changed.wait(lock, stopped);
    return true;
  }
  return c->changed.wait_for(lock, timeout, stopped);
}

Result<Done> ContainerManager::stop(std::string_view name, std::optional<int> timeout,
                                    std::string_view signal) {
  auto c = find(name);
  if (!c) return c.error();
  std::lock_guard op((*c)->op);
  int sig = SIGTERM;
  {
    std::lock_guard lock((*c)->mutex);
    auto& r = (*c)->record;
    auto t = transition(r.state.status, Action::kStop, r.id);
    if (t.kind == Transition::kNoop) return Done::kNotModified;
    if (t.kind == Transition::kConflict) return conflict(t.message);
    r.state.manually_stopped = true;
    (*c)->stop_requested = true;
    if (r.state.status == State::kRestarting) {
      // No task: cancel the pending restart.
      ++(*c)->restart_generation;
      r.state.status = t.next;
      (void)persist(**c);
      (*c)->changed.notify_all();
      publish(**c, "stop");
      return Done::kChanged;
    }
    (void)persist(**c);
    std::string wanted = signal.empty() ? r.stop_signal() : std::string(signal);
    if (!wanted.empty()) {
      sig = parse_signal(wanted);
      if (sig == 0) return make_error(ErrorCode::kInvalidArgument, "Invalid signal: " + wanted);
    }
    if (!timeout) timeout = r.stop_timeout().value_or(10);
  }
  publish(**c, "kill", {{"signal", std::to_string(sig)}});
  if (auto s = kill_task(**c, sig, false); !s && s.error().code != ErrorCode::kNotFound) return s.error();
  if (!wait_stopped(*c, std::chrono::seconds(*timeout < 0 ? -1 : *timeout))) {
    publish(**c, "kill", {{"signal", "9"}});
    (void)kill_task(**c, SIGKILL, true);
    if (!wait_stopped(*c, std::chrono::seconds(30))) {
      return make_error(ErrorCode::kInternal, "container " + (*c)->record.id + " did not stop after SIGKILL");
    }
  }
  publish(**c, "stop");
  return Done::kChanged;
}

Status ContainerManager::restart(std::string_view name, std::optional<int> timeout) {
  auto c = find(name);
  if (!c) return c.error();
  auto stopped = stop((*c)->record.id, timeout);
  if (!stopped) return stopped.error();
  auto started = start((*c)->record.id);
  if (!started) return started.error();
  publish(**c, "restart");
  return {};
}

Status ContainerManager::kill(std::string_view name, std::string_view signal) {
  auto c = find(name);
  if (!c) return c.error();
  int sig = SIGKILL;
  if (!signal.empty()) {
    sig = parse_signal(signal);
    if (sig == 0) return make_error(ErrorCode::kInvalidArgument, "Invalid signal: " + std::string(signal));
  }
  {
    std::lock_guard lock((*c)->mutex);
    auto& r = (*c)->record;
    auto t = transition(r.state.status, Action::kKill, r.id);
    if (t.kind == Transition::kConflict) {
      return conflict("Cannot kill container: " + std::string(name) + ": " + t.message);
    }
    r.state.manually_stopped = true;
    if (r.state.status == State::kRestarting) {
      ++(*c)->restart_generation;
      r.state.status = t.next;
      (void)persist(**c);
      (*c)->changed.notify_all();
      publish(**c, "kill", {{"signal", std::to_string(sig)}});
      return {};
    }
    (void)persist(**c);
  }
  publish(**c, "kill", {{"signal", std::to_string(sig)}});
  auto s = kill_task(**c, sig, sig == SIGKILL);
  if (!s && s.error().code == ErrorCode::kNotFound) {
    return conflict("Cannot kill container: " + std::string(name) + ": Container " + (*c)->record.id +
                    " is not running");
  }
  if (s && sig == SIGKILL && !wait_stopped(*c, std::chrono::seconds(10))) {
    // As dockerd: a SIGKILL answers once the exit is recorded, so an inspect or rm right after
    // sees a stopped container; past 10 s the caller gets its answer anyway.
    logging::get("container")->warn("kill {}: still running 10 s after SIGKILL", (*c)->record.short_id());
  }
  return s;
}

Status ContainerManager::pause(std::string_view name) {
  auto c = find(name);
  if (!c) return c.error();
  std::lock_guard op((*c)->op);
  std::string id;
  {
    std::lock_guard lock((*c)->mutex);
    auto t = transition((*c)->record.state.status, Action::kPause, (*c)->record.id);
    if (t.kind != Transition::kOk) return conflict(t.message);
    id = (*c)->record.id;
  }
  sdk::Context ctx;
  BERTH_TRY_STATUS(isolation_->pause(ctx, id));
  {
    std::lock_guard lock((*c)->mutex);
    apply((*c)->record, Action::kPause);
    (void)persist(**c);
  }
  (*c)->changed.notify_all();
  publish(**c, "pause");
  return {};
}

Status ContainerManager::unpause(std::string_view name) {
  auto c = find(name);
  if (!c) return c.error();
  std::lock_guard op((*c)->op);
  std::string id;
  {
    std::lock_guard lock((*c)->mutex);
    auto t = transition((*c)->record.state.status, Action::kUnpause, (*c)->record.id);
    if (t.kind != Transition::kOk) return conflict(t.message);
    id = (*c)->record.id;
  }
  sdk::Context ctx;
  BERTH_TRY_STATUS(isolation_->resume(ctx, id));
  {
    std::lock_guard lock((*c)->mutex);
    apply((*c)->record, Action::kUnpause);
    (void)persist(**c);
  }
  (*c)->changed.notify_all();
  publish(**c, "unpause");
  return {};
}

// ---- remove --------------------------------------------------------------------------------

Status ContainerManager::cleanup(const std::shared_ptr<Container>& c, bool remove_volumes) {
  ContainerRecord rec;
  {
    std::lock_guard lock(c->mutex);
    rec = c->record;
  }
  release_task(c);
  sdk::Context ctx;
  if (auto s = storage_.remove(ctx, rec.storage_key); !s && s.error().code != ErrorCode::kNotFound) {
    return s.error().wrap("remove root filesystem");
  }
  for (const auto& m : rec.mounts) {
    if (m.type != "volume" || m.name.empty()) continue;
    volumes_.remove_user(m.name, rec.id);
    if (remove_volumes && m.anonymous) {
      if (auto s = volumes_.remove(m.name, false); !s && s.error().code != ErrorCode::kNotFound &&
                                                   s.error().code != ErrorCode::kFailedPrecondition) {
        logging::get("container")->warn("remove volume {}: {}", m.name, s.error().message);
      }
    }
  }
  BERTH_TRY_STATUS(fs::remove_all(containers_dir() + "/" + rec.id));
  return {};
}

Status ContainerManager::remove(std::string_view name, bool force, bool remove_volumes) {
  auto c = find(name);
  if (!c) return c.error();
  {
    std::lock_guard lock((*c)->mutex);
    if ((*c)->removal_running) {
      return conflict("removal of container " + (*c)->record.id + " is already in progress");
    }
  }
  std::lock_guard op((*c)->op);
  struct RemovalMark {
    Container& c;
    explicit RemovalMark(Container& container) : c(container) {
      std::lock_guard lock(c.mutex);
      c.removal_running = true;
    }
    ~RemovalMark() {
      std::lock_guard lock(c.mutex);
      c.removal_running = false;
    }
  } mark(**c);
  bool running;
  {
    std::lock_guard lock((*c)->mutex);
    auto& r = (*c)->record;
    if ((*c)->removed) return make_error(ErrorCode::kNotFound, "No such container: " + std::string(name));
    auto t = transition(r.state.status, force ? Action::kForceRemove : Action::kRemove, r.id);
    if (t.kind == Transition::kConflict) return conflict(t.message);
    running = is_running(r.state.status);
    (*c)->stop_requested = true;
    (*c)->stop_requested_for_removal = true;
    ++(*c)->restart_generation;
  }
  if (running) {
    (void)kill_task(**c, SIGKILL, true);
    bool restarting;
    {
      std::lock_guard lock((*c)->mutex);
      restarting = (*c)->record.state.status == State::kRestarting;
    }
    if (!restarting && !wait_stopped(*c, std::chrono::seconds(30))) {
      return make_error(ErrorCode::kInternal, "could not kill running container " + (*c)->record.id +
                                                  ", cannot remove");
    }
  }
  {
    std::lock_guard lock((*c)->mutex);
    apply((*c)->record, Action::kForceRemove);
    (void)persist(**c);
  }
  auto s = cleanup(*c, remove_volumes || (*c)->record.auto_remove());
  if (!s) {
    std::lock_guard lock((*c)->mutex);
    apply((*c)->record, Action::kRemoveFailed);
    (*c)->record.state.error = s.error().message;
    (void)persist(**c);
    (*c)->changed.notify_all();
    return s.error().wrap("unable to remove container " + (*c)->record.id);
  }
  {
    std::lock_guard lock(mutex_);
    containers_.erase((*c)->record.id);
    names_.erase((*c)->record.name);
    for (auto it = execs_.begin(); it != execs_.end();) {
      if (it->second->container_id == (*c)->record.id) it = execs_.erase(it);
      else ++it;
    }
    pending_attaches_.erase((*c)->record.id);
  }
  {
    std::lock_guard lock((*c)->mutex);
    (*c)->removed = true;
  }
  (*c)->changed.notify_all();
  attach_ready_.notify_all();
  publish(**c, "destroy");
  return {};
}

// ---- wait and attach -----------------------------------------------------------------------

Result<std::pair<int, std::string>> ContainerManager::wait(std::string_view name,
                                                           std::string_view condition,
                                                           const std::function<void()>& prepared,
                                                           const std::function<bool()>& gone) {
  if (!condition.empty() && condition != "not-running" && condition != "next-exit" &&
      condition != "removed") {
    return make_error(ErrorCode::kInvalidArgument, "invalid condition: \"" + std::string(condition) + "\"");
  }
  auto c = find(name);
  if (!c) return c.error();
  uint64_t exits_at_start;
  {
    std::lock_guard lock((*c)->mutex);
    exits_at_start = (*c)->exits;
  }
  if (prepared) prepared();
  std::unique_lock lock((*c)->mutex);
  for (;;) {
    auto& s = (*c)->record.state;
    bool done = false;
    if (condition == "removed") {
      done = (*c)->removed;
    } else if (condition == "next-exit") {
      done = (*c)->exits > exits_at_start || (*c)->removed;
    } else {
      // dockerd wakes not-running waiters at every exit, also one its restart policy follows
      // with a restart: the waiter gets that exit's code.
      done = (!is_running(s.status) && !(*c)->starting) || (*c)->exits > exits_at_start;
    }
    if (done) return std::make_pair(s.exit_code, s.error);
    (*c)->changed.wait_for(lock, std::chrono::milliseconds(500));
    if (gone && gone()) return make_error(ErrorCode::kCancelled, "context canceled");
    if (stopping_) return make_error(ErrorCode::kUnavailable, "daemon is shutting down");
  }
}

Result<UniqueFd> ContainerManager::attach_stream(std::string_view name, const sdk::AttachOptions& options,
                                                 const std::function<bool()>& gone) {
  auto c = find(name);
  if (!c) return c.error();
  std::string id;
  std::shared_ptr<PendingAttach> pending;
  {
    std::lock_guard lock(mutex_);
    std::lock_guard cl((*c)->mutex);
    id = (*c)->record.id;
    if (!(*c)->task_ready) {
      pending = std::make_shared<PendingAttach>();
      pending->options = options;
      pending_attaches_[id].push_back(pending);
    }
  }
  if (!pending) {
    sdk::Context ctx;
    auto fd = isolation_->attach(ctx, id, "", options);
    if (!fd) return fd.error();
    return UniqueFd(*fd);
  }
  std::unique_lock lock(mutex_);
  for (;;) {
    if (pending->result) return std::move(*pending->result);
    bool removed;
    {
      std::lock_guard cl((*c)->mutex);
      removed = (*c)->removed;
    }
    if (removed || stopping_ || (gone && gone())) {
      auto& list = pending_attaches_[id];
      std::erase(list, pending);
      if (list.empty()) pending_attaches_.erase(id);
      return UniqueFd();
    }
    attach_ready_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

// ---- live restore --------------------------------------------------------------------------

void ContainerManager::end_task(const std::string& id, const sdk::TaskState& task) {
  sdk::Context ctx;
  if (task.status == sdk::TaskStatus::kRunning || task.status == sdk::TaskStatus::kPaused) {
    (void)isolation_->kill(ctx, id, SIGKILL, true);
    // A backend removes only stopped tasks: wait (bounded) for the kill to land.
    for (int i = 0; i < 500; ++i) {
      auto st = isolation_->state(ctx, id);
      if (!st || st->status == sdk::TaskStatus::kStopped) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (auto s = isolation_->remove(ctx, id); !s) {
    logging::get("container")->warn("removing leftover task {}: {}", id.substr(0, 12), s.error().message);
  }
}

Status ContainerManager::restore() {
  auto log = logging::get("container");
  BERTH_TRY_STATUS(fs::ensure_dir(containers_dir(), 0710));
  BERTH_TRY_STATUS(fs::ensure_dir(options_.exec_root + "/containers", 0700));
  auto records = load_records(containers_dir());
  if (!records) return records.error();
  std::map<std::string, sdk::TaskState> tasks;
  if (isolation_ != nullptr) {
    sdk::Context ctx;
    auto listed = isolation_->list(ctx);
    if (!listed) return listed.error().wrap("list tasks of the isolation backend");
    for (auto& t : *listed) tasks[t.id] = t;
  }
  std::vector<std::shared_ptr<Container>> to_start;
  std::vector<std::shared_ptr<Container>> to_remove;
  std::vector<std::pair<std::shared_ptr<Container>, ExitInfo>> exited_meanwhile;
  for (auto& rec : *records) {
    auto c = std::make_shared<Container>();
    c->record = std::move(rec);
    auto& r = c->record;
    {
      std::lock_guard lock(mutex_);
      containers_[r.id] = c;
      names_[r.name] = r.id;
    }
    for (const auto& m : r.mounts) {
      if (m.type == "volume" && !m.name.empty()) volumes_.add_user(m.name, r.id);
    }
    auto task_it = tasks.find(r.id);
    std::optional<sdk::TaskState> task;
    if (task_it != tasks.end()) {
      task = task_it->second;
      tasks.erase(task_it);
    }
    auto status = r.state.status;
    if (status == State::kRemoving || status == State::kDead) {
      to_remove.push_back(c);
      continue;
    }
    if (status == State::kRunning || status == State::kPaused || status == State::kRestarting) {
      if (task && (task->status == sdk::TaskStatus::kRunning || task->status == sdk::TaskStatus::kPaused)) {
        apply(r, task->status == sdk::TaskStatus::kPaused ? Action::kAdoptedPaused : Action::kAdopted);
        r.state.pid = task->pid;
        c->task_ready = true;
        c->task_held = true;
        log->info("re-adopted running container {} (pid {})", r.short_id(), task->pid);
        (void)persist(*c);
        continue;
      }
      // It exited while we were away: record its real exit.
      ExitInfo info;
      if (task && task->status == sdk::TaskStatus::kStopped) {
        info = ExitInfo{task->exit_code, task->oom_killed, task->exited_at_unix_nano, task->pid};
      } else {
        info = ExitInfo{255, false, now_unix_nano(), 0};
        r.state.error = "container was not running when berthd restarted";
      }
      if (info.exited_at == 0) info.exited_at = now_unix_nano();
      c->task_held = true;                // after_exit releases it
      exited_meanwhile.emplace_back(c, info);
      continue;
    }
    // Created or exited before the restart: clean up a leftover task (a start killed half-way
    // may have left it running: the container stays as its record says, created, and the
    // process goes); "always" starts again at a daemon start, even after a manual stop
    // (docker's rule).
    if (task && isolation_ != nullptr) end_task(r.id, *task);
    if (r.restart_policy() == "always" && r.state.has_been_started) to_start.push_back(c);
  }
  // Tasks nobody owns (a container removed while we were away): end them.
  for (const auto& [id, task] : tasks) {
    log->warn("removing task {} that belongs to no container", id.substr(0, 12));
    end_task(id, task);
  }
  for (auto& exited : exited_meanwhile) {
    // Named copies: structured bindings cannot be captured by lambdas before clang 16.
    std::shared_ptr<Container> c = exited.first;
    ExitInfo info = exited.second;
    std::optional<std::chrono::milliseconds> restart;
    {
      std::lock_guard lock(c->mutex);
      restart = record_exit_locked(*c, info);
      (void)persist(*c);
    }
    log->info("container {} exited with {} while berthd was down", c->record.short_id(), info.exit_code);
    post([this, c, info, restart] { after_exit(c, info, restart); });
  }
  for (auto& c : to_remove) {
    post([this, c] {
      if (auto s = remove(c->record.id, true, false); !s) {
        logging::get("container")->warn("finishing removal of {}: {}", c->record.short_id(), s.error().message);
      }
    });
  }
  for (auto& c : to_start) {
    post([this, c] {
      if (auto s = start(c->record.id); !s) {
        logging::get("container")->warn("restart policy: starting {}: {}", c->record.short_id(), s.error().message);
      }
    });
  }
  return {};
}

}  // namespace berth::core::container
