// Live restore at daemon start: running tasks re-adopted, exits that happened meanwhile
// recorded, unfinished removals finished, tasks nobody owns ended.
#include <signal.h>

#include <thread>

#include "core/common/fs.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"

namespace berth::core::container {

using namespace lifecycle;

void ContainerManager::end_task(sdk::Context& ctx, const std::string& id, const sdk::TaskState& task) {
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
  sdk::Context ctx = background_context("restore");
  if (isolation_ != nullptr) {
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
        health_start(c, true);  // dockerd restarts probing as "starting", the log kept
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
    if (task && isolation_ != nullptr) end_task(ctx, r.id, *task);
    if (r.restart_policy() == "always" && r.state.has_been_started) to_start.push_back(c);
  }
  // Tasks nobody owns (a container removed while we were away): end them.
  for (const auto& [id, task] : tasks) {
    log->warn("removing task {} that belongs to no container", id.substr(0, 12));
    end_task(ctx, id, task);
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
      sdk::Context job = background_context("restore");
      if (auto s = remove(job, c->record.id, true, false); !s) {
        logging::get("container")->warn("finishing removal of {}: {}", c->record.short_id(), s.error().message);
      }
    });
  }
  for (auto& c : to_start) {
    post([this, c] {
      sdk::Context job = background_context("restart-policy");
      if (auto s = start(job, c->record.id); !s) {
        logging::get("container")->warn("restart policy: starting {}: {}", c->record.short_id(), s.error().message);
      }
    });
  }
  return {};
}

}  // namespace berth::core::container
