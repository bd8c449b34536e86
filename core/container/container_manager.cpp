// Containers: lookups, update, resize, prune, and the manager's workers. Each verb of the
// lifecycle has its file (create.cpp with rename, start.cpp, stop_kill.cpp, pause.cpp,
// remove.cpp, exits.cpp, wait_attach.cpp, restore.cpp); execs are in exec.cpp, filesystem
// views in container_fs.cpp, the JSON clients see (inspect, list) in core/api/views/.
#include "core/common/json_fields.hpp"
#include "core/common/json_text.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "berth/sdk/codec.hpp"
#include "berth/sdk/mount.hpp"
#include "core/common/fs.hpp"
#include "core/common/label_filter.hpp"
#include "core/common/ids.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"
#include "core/container/oci_spec.hpp"
#include "core/container/status_text.hpp"
#include "core/image/reference.hpp"

namespace json = boost::json;

namespace berth::core::container {

using lifecycle::no_such_container;

namespace {

using json_fields::str;

}  // namespace

ContainerManager::ContainerManager(ManagerOptions options, image::ImageService& images,
                                   sdk::StorageDriver& storage, sdk::IsolationBackend* isolation,
                                   volume::VolumeManager& volumes, events::EventBus& events)
    : options_(std::move(options)),
      images_(images),
      storage_(storage),
      isolation_(isolation),
      volumes_(volumes),
      events_(events) {
  worker_ = std::thread([this] { worker_loop(); });
  timer_thread_ = std::thread([this] { timer_loop(); });
  health_ = std::make_unique<HealthScheduler>(HealthScheduler::Hooks{
      [this](const std::string& id, const std::string& exec_id, const std::vector<std::string>& argv) {
        return launch_probe(id, exec_id, argv);
      },
      [this](const std::string& id, uint64_t generation, const std::string& exec_id, ProbeResult r) {
        return probe_finished(id, generation, exec_id, std::move(r));
      }});
}

ContainerManager::~ContainerManager() { shutdown(); }

void ContainerManager::shutdown() {
  if (stopping_.exchange(true)) return;
  if (health_) {
    health_->stop();
    // Probe results are kept in memory between changes of status: write them once now, so a
    // live-restored container keeps its log.
    for (const auto& c : all()) {
      std::lock_guard lock(c->mutex);
      if (c->record.state.health && !c->removed) (void)persist(*c);
    }
  }
  jobs_cv_.notify_all();
  attach_ready_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (timer_thread_.joinable()) timer_thread_.join();
}

void ContainerManager::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mutex_);
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.notify_all();
}

void ContainerManager::worker_loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      logging::get("container")->error("worker job failed: {}", e.what());
    }
  }
}

void ContainerManager::timer_loop() {
  std::unique_lock lock(jobs_mutex_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::seconds(1);
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->at <= now) {
        jobs_.push_back(std::move(it->fn));
        it = timers_.erase(it);
        jobs_cv_.notify_all();
      } else {
        next = std::min(next, it->at);
        ++it;
      }
    }
    jobs_cv_.wait_until(lock, next);
  }
}

void ContainerManager::task_exited(const sdk::TaskExit& exit) noexcept try {
  const std::string& id = exit.id;
  const std::string& exec_id = exit.exec_id;
  ExitInfo info;
  info.exit_code = exit.exit_code;
  info.oom_killed = exit.oom_killed;
  info.exited_at = exit.exited_at_unix_nano;
  info.pid = exit.pid;
  if (info.exited_at == 0) info.exited_at = now_unix_nano();
  // A healthcheck probe's exit goes to the scheduler (no ExecRecord is kept for probes).
  if (!exec_id.empty() && health_ && health_->exec_exited(exec_id, info.exit_code)) return;
  post([this, id, exec_id, info] {
    if (!exec_id.empty()) {
      std::shared_ptr<ExecRecord> exec;
      {
        std::lock_guard lock(mutex_);
        auto it = execs_.find(exec_id);
        if (it != execs_.end()) exec = it->second;
      }
      if (!exec) return;
      auto c = find(exec->container_id);
      if (!c) return;
      {
        std::lock_guard lock((*c)->mutex);
        exec->running = false;
        // An exec that could not start already has dockerd's 126.
        if (!exec->exit_code) exec->exit_code = info.exit_code;
      }
      (*c)->changed.notify_all();
      std::string cmd;
      if (const auto* a = exec->config.if_contains("Cmd"); a != nullptr && a->is_array()) {
        for (const auto& s : a->get_array()) {
          if (s.is_string()) cmd += (cmd.empty() ? "" : " ") + std::string(s.get_string());
        }
      }
      publish(**c, "exec_die", {{"execID", exec_id}, {"exitCode", std::to_string(info.exit_code)}});
      return;
    }
    auto c = find(id);
    if (!c) return;
    handle_exit(*c, info);
  });
} catch (const std::exception& e) {
  // Nothing may escape into the backend's thread; restore() finds the exit again at next start.
  logging::get("container")->error("task exit of {}: {}", exit.id, e.what());
}

// ---- lookups -------------------------------------------------------------------------------

Result<std::shared_ptr<Container>> ContainerManager::find(std::string_view name_or_id) const {
  if (name_or_id.empty()) return no_such_container(name_or_id);
  std::lock_guard lock(mutex_);
  if (auto it = containers_.find(std::string(name_or_id)); it != containers_.end()) return it->second;
  std::string name = name_or_id[0] == '/' ? std::string(name_or_id) : "/" + std::string(name_or_id);
  if (auto it = names_.find(name); it != names_.end()) return containers_.at(it->second);
  std::shared_ptr<Container> found;
  for (const auto& [id, c] : containers_) {
    if (id.compare(0, name_or_id.size(), name_or_id) == 0) {
      if (found) {
        return make_error(ErrorCode::kInvalidArgument,
                          "multiple IDs found with provided prefix: " + std::string(name_or_id));
      }
      found = c;
    }
  }
  if (found) return found;
  return no_such_container(name_or_id);
}

std::vector<std::shared_ptr<Container>> ContainerManager::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Container>> out;
  for (const auto& [_, c] : containers_) out.push_back(c);
  return out;
}

image::ImageUsers ContainerManager::image_users(const std::string& image_id) const {
  image::ImageUsers users;
  for (const auto& c : all()) {
    std::lock_guard lock(c->mutex);
    if (c->record.image_id != image_id) continue;
    (is_running(c->record.state.status) ? users.running : users.stopped).push_back(c->record.id);
  }
  return users;
}

ContainerManager::Counts ContainerManager::counts() const {
  Counts n;
  for (const auto& c : all()) {
    std::lock_guard lock(c->mutex);
    ++n.total;
    auto s = c->record.state.status;
    if (s == State::kPaused) ++n.paused;
    else if (s == State::kRunning || s == State::kRestarting) ++n.running;
    else ++n.stopped;
  }
  return n;
}

Status ContainerManager::persist(Container& c) {
  return save_record(containers_dir(), c.record);
}

void ContainerManager::publish(const Container& c, const std::string& action,
                               std::map<std::string, std::string> extra) const {
  events::Event e;
  e.type = "container";
  e.action = action;
  e.actor_id = c.record.id;
  e.attributes = c.record.labels();
  e.attributes["image"] = c.record.image;
  e.attributes["name"] = c.record.bare_name();
  for (auto& [k, v] : extra) e.attributes[k] = std::move(v);
  events_.publish(std::move(e));
}

Result<json::object> ContainerManager::update(sdk::Context& call, std::string_view name, const json::object& body) {
  auto c = find(name);
  if (!c) return c.error();
  std::lock_guard op((*c)->op);
  json::object hc;
  {
    std::lock_guard lock((*c)->mutex);
    hc = (*c)->record.host_config;
  }
  static const std::set<std::string> kFields = {
      "BlkioWeight", "CpuShares", "CpuPeriod", "CpuQuota", "NanoCpus", "CpusetCpus", "CpusetMems",
      "Memory", "MemorySwap", "MemoryReservation", "PidsLimit", "RestartPolicy", "KernelMemory",
      "CpuRealtimePeriod", "CpuRealtimeRuntime", "OomKillDisable"};
  for (const auto& [k, v] : body) {
    if (!kFields.contains(std::string(k))) continue;
    // Zero and null mean "leave as is" in docker update's body.
    if (v.is_null() || (v.is_number() && v.to_number<int64_t>() == 0) ||
        (v.is_string() && v.get_string().empty())) {
      continue;
    }
    hc[k] = v;
  }
  if (auto mem = hc.if_contains("Memory"); mem && mem->is_number() && mem->to_number<int64_t>() > 0 &&
                                          mem->to_number<int64_t>() < 6 * 1024 * 1024) {
    return make_error(ErrorCode::kInvalidArgument, "Minimum memory limit allowed is 6MB");
  }
  if (const auto* rp = body.if_contains("RestartPolicy"); rp != nullptr && rp->is_object()) {
    std::string policy = str(rp->get_object(), "Name");
    if (!policy.empty() && policy != "no" && policy != "always" && policy != "unless-stopped" &&
        policy != "on-failure") {
      return make_error(ErrorCode::kInvalidArgument, "invalid restart policy '" + policy + "'");
    }
    bool auto_remove = false;
    {
      std::lock_guard lock((*c)->mutex);
      auto_remove = (*c)->record.auto_remove();
    }
    if (auto_remove && policy != "no" && !policy.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Restart policy cannot be updated because AutoRemove is enabled for the container");
    }
  }
  bool running = false;
  std::string id;
  {
    std::lock_guard lock((*c)->mutex);
    running = is_running((*c)->record.state.status);
    id = (*c)->record.id;
  }
  if (running && isolation_ != nullptr) {
    SpecContext ctx{"", false, options_.cgroup_v2, true};
    BERTH_TRY_STATUS(isolation_->update(call, id, json::serialize(build_resources(hc, ctx))));
  }
  {
    std::lock_guard lock((*c)->mutex);
    (*c)->record.host_config = std::move(hc);
    BERTH_TRY_STATUS(persist(**c));
  }
  publish(**c, "update");
  return json::object{{"Warnings", json::array()}};
}

Status ContainerManager::resize(sdk::Context& ctx, std::string_view name, uint32_t rows, uint32_t cols) {
  auto c = find(name);
  if (!c) return c.error();
  std::string id;
  State s;
  {
    std::lock_guard lock((*c)->mutex);
    id = (*c)->record.id;
    s = (*c)->record.state.status;
  }
  if (!is_running(s)) {
    return make_error(ErrorCode::kFailedPrecondition, "Container " + id + " is not running");
  }
  return isolation_->resize(ctx, id, "", rows, cols);
}

Result<std::pair<std::vector<std::string>, int64_t>> ContainerManager::prune(sdk::Context& ctx, const Filters& filters) {
  for (const auto& [k, _] : filters) {
    if (k != "until" && k != "label" && k != "label!") {
      return make_error(ErrorCode::kInvalidArgument, "invalid filter '" + k + "'");
    }
  }
  std::optional<int64_t> until;
  if (auto it = filters.find("until"); it != filters.end() && !it->second.empty()) {
    until = parse_timestamp_param(*it->second.begin());
    if (!until) return make_error(ErrorCode::kInvalidArgument, "invalid until filter");
  }
  std::vector<std::string> deleted;
  int64_t reclaimed = 0;
  for (const auto& c : all()) {
    ContainerRecord r;
    {
      std::lock_guard lock(c->mutex);
      r = c->record;
    }
    auto st = r.state.status;
    if (st != State::kExited && st != State::kCreated && st != State::kDead) continue;
    if (until && r.created > *until) continue;
    auto labels = r.labels();
    if (auto it = filters.find("label"); it != filters.end() && !labels_match(labels, it->second)) continue;
    if (auto it = filters.find("label!"); it != filters.end() && !labels_match_none(labels, it->second)) {
      continue;
    }
    auto rw = size_rw(ctx, *c);
    if (remove(ctx, r.id, false, false)) {
      deleted.push_back(r.id);
      reclaimed += rw ? *rw : 0;
    }
  }
  return std::make_pair(std::move(deleted), reclaimed);
}

}  // namespace berth::core::container
