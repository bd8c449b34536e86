// Waiting for a container (wait's conditions) and attaching to its streams.
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"

namespace berth::core::container {

using namespace lifecycle;

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
    // A waiter for removal gets the exit code without the error dockerd clears on removal, so
    // `run --rm` of a command that cannot start says so once, not also "Error waiting".
    if (done) return std::make_pair(s.exit_code, condition == "removed" ? std::string() : s.error);
    (*c)->changed.wait_for(lock, std::chrono::milliseconds(500));
    if (gone && gone()) return make_error(ErrorCode::kCancelled, "context canceled");
    if (stopping_) return make_error(ErrorCode::kUnavailable, "daemon is shutting down");
  }
}

Result<UniqueFd> ContainerManager::attach_stream(sdk::Context& ctx, std::string_view name, const sdk::AttachOptions& options,
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

}  // namespace berth::core::container
