// A task's exit: recorded, published, its task released, and the restart policy applied
// (restarts scheduled with backoff, --rm honoured).
#include <filesystem>

#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"
#include "core/container/restart_policy.hpp"

namespace berth::core::container {

using namespace lifecycle;

std::optional<std::chrono::milliseconds> ContainerManager::record_exit_locked(Container& c,
                                                                              const ExitInfo& info) {
  health_stop_locked(c);
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
  sdk::Context ctx = background_context("exit");
  release_task(ctx, c);
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

void ContainerManager::release_task(sdk::Context& ctx, const std::shared_ptr<Container>& c) {
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
    if (auto r = isolation_->remove(ctx, id); !r && r.error().code != ErrorCode::kNotFound) {
      logging::get("container")->warn("release task {}: {}", id.substr(0, 12), r.error().message);
    }
  }
  for (const auto& v : volumes) (void)volumes_.unmount(v);
  if (network_hooks_ != nullptr) network_hooks_->detach(ctx, id);
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
                       sdk::Context ctx = background_context("restart-policy");
                       if (auto s = start_task(ctx, c); !s) {
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
  sdk::Context ctx = background_context("auto-remove");
  if (auto s = remove(ctx, id, true, true); !s && s.error().code != ErrorCode::kNotFound) {
    logging::get("container")->warn("auto-remove {}: {}", id.substr(0, 12), s.error().message);
  }
}

}  // namespace berth::core::container
