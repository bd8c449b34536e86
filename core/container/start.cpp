// Starting a container: the task spec built from its record, the task created and started,
// attaches that came first handed their streams.
#include "core/common/fs.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/config/daemon_config.hpp"
#include "core/container/bind_propagation.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"
#include "core/container/task_spec.hpp"

namespace berth::core::container {

using namespace lifecycle;

Status ContainerManager::start_task(sdk::Context& ctx, const std::shared_ptr<Container>& c) {
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
  // A managed network (the default bridge, a user network): berthd makes the namespace and joins
  // the endpoints, and the backend is handed its path (as moby's sandbox). Undone by detach in
  // release_task, which every failure below goes through.
  auto t_network = std::chrono::steady_clock::now();
  if (!placement->network.empty() && network_hooks_ != nullptr) {
    auto attached = network_hooks_->attach(ctx, rec);
    if (!attached) return attached.error().wrap("network");
    spec_ctx.netns_path = attached->netns_path;
  } else if (!placement->network.empty() && placement->network != "bridge" && placement->network != "host") {
    return make_error(ErrorCode::kNotFound, "network " + placement->network + " not found");
  }
  auto t_network_done = std::chrono::steady_clock::now();
  // Host side effects from here (the network attached above, volume mounts): undone on any way
  // out until the task holds them (release_task() undoes them from then on).
  struct StartGuard {
    volume::VolumeManager& volumes;
    std::function<void()> detach_network;
    std::vector<std::string> mounted;
    bool handed_over = false;
    ~StartGuard() {
      if (handed_over) return;
      for (const auto& v : mounted) (void)volumes.unmount(v);
      if (detach_network) detach_network();
    }
  } guard{volumes_, {}, {}};
  if (network_hooks_ != nullptr && !spec_ctx.netns_path.empty() && placement->netns_path.empty()) {
    guard.detach_network = [this, &ctx, id = rec.id] { network_hooks_->detach(ctx, id); };
  }
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
  for (const auto& m : rec.mounts) {
    if (m.type != "volume") continue;
    BERTH_TRY_STATUS(volumes_.mount(m.name));
    guard.mounted.push_back(m.name);
  }
  BERTH_TRY_STATUS(fs::ensure_dir(create.bundle, 0700));

  {
    std::lock_guard lock(c->mutex);
    c->starting = true;
    c->task_held = true;
    c->pending_exit.reset();
  }
  guard.handed_over = true;
  auto finish_starting = [&] {
    std::lock_guard lock(c->mutex);
    c->starting = false;
  };
  auto t_create = std::chrono::steady_clock::now();
  auto pid = isolation_->create(ctx, rec.id, create);
  auto t_created = std::chrono::steady_clock::now();
  if (!pid) {
    finish_starting();
    release_task(ctx, c);  // a half-created task, its bundle and the volume mounts
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
      "task {}: network {:.1f} ms, create {:.1f} ms, attach {:.1f} ms, start {:.1f} ms", rec.short_id(),
      std::chrono::duration<double, std::milli>(t_network_done - t_network).count(),
      std::chrono::duration<double, std::milli>(t_created - t_create).count(),
      std::chrono::duration<double, std::milli>(t_start - t_created).count(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count());
  if (!started) {
    std::string message = started.error().message;
    int code = start_failure_code(message);
    message = "failed to create task for container: " + message;
    {
      std::lock_guard lock(c->mutex);
      auto t = transition(c->record.state.status, Action::kStartFailed, rec.id);
      c->record.state.status = t.next;
      // State.Error is what start answered, as in dockerd. A start that failed is no exit:
      // `next-exit` waiters keep waiting (dockerd's do too), `not-running` ones wake.
      c->record.state.error = message;
      c->record.state.exit_code = code;
      c->starting = false;
      c->task_ready = false;
      c->pending_exit.reset();
      (void)persist(*c);
    }
    c->changed.notify_all();
    attach_ready_.notify_all();
    release_task(ctx, c);
    Error e = started.error();
    e.message = message;
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
  health_start(c, true);
  if (early_exit) {
    auto info = *early_exit;
    post([this, c, info] { handle_exit(c, info); });
  }
  return {};
}

Result<Done> ContainerManager::start(sdk::Context& ctx, std::string_view name) {
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
  auto s = start_task(ctx, *c);
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

}  // namespace berth::core::container
