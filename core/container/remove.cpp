// Removing a container: its task, snapshot, volumes of its own, record and name.
#include <signal.h>

#include "core/common/fs.hpp"
#include "core/common/logging.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"

namespace berth::core::container {

using namespace lifecycle;

Status ContainerManager::cleanup(sdk::Context& ctx, const std::shared_ptr<Container>& c, bool remove_volumes) {
  ContainerRecord rec;
  {
    std::lock_guard lock(c->mutex);
    rec = c->record;
  }
  release_task(ctx, c);
  if (network_hooks_ != nullptr) network_hooks_->release(rec.id);
  health_->unwatch(rec.id);
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

Status ContainerManager::remove(sdk::Context& ctx, std::string_view name, bool force, bool remove_volumes) {
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
    if ((*c)->removed) return no_such_container(name);
    auto t = transition(r.state.status, force ? Action::kForceRemove : Action::kRemove, r.id);
    if (t.kind == Transition::kConflict) return conflict(t.message);
    running = is_running(r.state.status);
    (*c)->stop_requested = true;
    (*c)->stop_requested_for_removal = true;
    ++(*c)->restart_generation;
  }
  if (running) {
    (void)kill_task(ctx, **c, SIGKILL, true);
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
  auto s = cleanup(ctx, *c, remove_volumes || (*c)->record.auto_remove());
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

}  // namespace berth::core::container
