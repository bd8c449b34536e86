// pause and unpause (the freezer).
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"

namespace berth::core::container {

using namespace lifecycle;

Status ContainerManager::pause(sdk::Context& ctx, std::string_view name) {
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
  BERTH_TRY_STATUS(isolation_->pause(ctx, id));
  {
    std::lock_guard lock((*c)->mutex);
    apply((*c)->record, Action::kPause);
    health_stop_locked(**c);
    (void)persist(**c);
  }
  (*c)->changed.notify_all();
  publish(**c, "pause");
  return {};
}

Status ContainerManager::unpause(sdk::Context& ctx, std::string_view name) {
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
  BERTH_TRY_STATUS(isolation_->resume(ctx, id));
  {
    std::lock_guard lock((*c)->mutex);
    apply((*c)->record, Action::kUnpause);
    (void)persist(**c);
  }
  (*c)->changed.notify_all();
  publish(**c, "unpause");
  health_start(*c, false);
  return {};
}

}  // namespace berth::core::container
