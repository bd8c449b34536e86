// stop, restart and kill: signals, the stop timeout, and waiting until the task is released.
#include <signal.h>

#include "berth/sdk/codec.hpp"
#include "core/common/logging.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"

namespace berth::core::container {

using namespace lifecycle;

Status ContainerManager::kill_task(sdk::Context& ctx, Container& c, int signal, bool all) {
  std::string id;
  bool paused;
  {
    std::lock_guard lock(c.mutex);
    id = c.record.id;
    paused = c.record.state.status == State::kPaused;
  }
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

Result<Done> ContainerManager::stop(sdk::Context& ctx, std::string_view name, std::optional<int> timeout,
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
  if (auto s = kill_task(ctx, **c, sig, false); !s && s.error().code != ErrorCode::kNotFound) return s.error();
  if (!wait_stopped(*c, std::chrono::seconds(*timeout < 0 ? -1 : *timeout))) {
    publish(**c, "kill", {{"signal", "9"}});
    (void)kill_task(ctx, **c, SIGKILL, true);
    if (!wait_stopped(*c, std::chrono::seconds(30))) {
      return make_error(ErrorCode::kInternal, "container " + (*c)->record.id + " did not stop after SIGKILL");
    }
  }
  publish(**c, "stop");
  return Done::kChanged;
}

Status ContainerManager::restart(sdk::Context& ctx, std::string_view name, std::optional<int> timeout) {
  auto c = find(name);
  if (!c) return c.error();
  auto stopped = stop(ctx, (*c)->record.id, timeout);
  if (!stopped) return stopped.error();
  auto started = start(ctx, (*c)->record.id);
  if (!started) return started.error();
  publish(**c, "restart");
  return {};
}

Status ContainerManager::kill(sdk::Context& ctx, std::string_view name, std::string_view signal) {
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
  auto s = kill_task(ctx, **c, sig, sig == SIGKILL);
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

}  // namespace berth::core::container
