// Healthchecks in the manager: when a container's probing starts and stops, how a probe runs in
// it (an exec, as dockerd's), and what its result does to the container's State.Health. The
// schedule is the HealthScheduler's; the rules are health.hpp's.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/oci_spec.hpp"
#include "core/container/user_lookup.hpp"

namespace json = boost::json;

namespace berth::core::container {

void ContainerManager::health_start(const std::shared_ptr<Container>& c, bool reset) {
  std::string id;
  uint64_t generation = 0;
  std::optional<ProbeConfig> probe;
  int64_t delay = 0;
  {
    std::lock_guard lock(c->mutex);
    auto& s = c->record.state;
    if (s.status != State::kRunning) return;
    probe = probe_config(c->record.config);
    if (!probe) return;
    if (!s.health) s.health.emplace();
    if (reset) health_monitor_started(*s.health);
    generation = ++c->health_generation;
    id = c->record.id;
    delay = next_probe_delay(*probe, s.health->status, now_unix_nano() - s.started_at);
  }
  health_->watch(id, generation, std::move(*probe), delay);
}

void ContainerManager::health_stop_locked(Container& c) {
  ++c.health_generation;
  if (!c.record.state.health) return;
  health_monitor_stopped(*c.record.state.health);
  health_->unwatch(c.record.id);
}

Result<HealthScheduler::Launch> ContainerManager::launch_probe(const std::string& id,
                                                               const std::string& exec_id,
                                                               const std::vector<std::string>& argv) {
  auto c = find(id);
  if (!c) return c.error();
  ContainerRecord rec;
  {
    std::lock_guard lock((*c)->mutex);
    rec = (*c)->record;
  }
  if (rec.state.status != State::kRunning || rec.state.pid <= 0) {
    return make_error(ErrorCode::kFailedPrecondition, "Container " + rec.id + " is not running");
  }
  // dockerd's probe exec: the container's user and working directory, no terminal, no stdin.
  json::array cmd;
  std::string command_line;
  for (const auto& a : argv) {
    cmd.emplace_back(a);
    command_line += (command_line.empty() ? "" : " ") + a;
  }
  std::string user_spec = json_fields::str(rec.config, "User");
  json::object exec{{"Cmd", std::move(cmd)},
                    {"Tty", false},
                    {"AttachStdout", true},
                    {"AttachStderr", true},
                    {"User", user_spec},
                    {"WorkingDir", json_fields::str(rec.config, "WorkingDir")}};
  std::vector<std::string> group_add;
  if (const auto* g = rec.host_config.if_contains("GroupAdd"); g != nullptr && g->is_array()) {
    for (const auto& v : g->get_array()) {
      if (v.is_string()) group_add.emplace_back(v.get_string());
    }
  }
  auto user = resolve_user_in_root("/proc/" + std::to_string(rec.state.pid) + "/root",
                                   user_spec.empty() ? "0" : user_spec, group_add);
  if (!user) return user.error();
  auto process = build_exec_process(rec, exec, *user);
  if (!process) return process.error();
  publish(**c, "exec_create: " + command_line, {{"execID", exec_id}});
  sdk::ExecSpec spec;
  spec.process_json = json::serialize(*process);
  spec.stdio = {false, false, false};
  sdk::Context ctx = background_context("healthcheck");
  auto pid = isolation_->exec(ctx, rec.id, exec_id, spec);
  if (!pid) return pid.error();
  HealthScheduler::Launch launch;
  launch.exec_id = exec_id;
  // Taken while the process is held before its start: it cannot have exited and been replaced.
  launch.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  auto fd = isolation_->attach(ctx, rec.id, exec_id, sdk::AttachOptions{false, true, true});
  if (!fd) {
    if (launch.pidfd) (void)::syscall(SYS_pidfd_send_signal, launch.pidfd.get(), SIGKILL, nullptr, 0);
    return fd.error();
  }
  launch.stream.reset(*fd);
  if (auto s = isolation_->start(ctx, rec.id, exec_id); !s) return s.error();
  publish(**c, "exec_start: " + command_line, {{"execID", exec_id}});
  return launch;
}

std::optional<int64_t> ContainerManager::probe_finished(const std::string& id, uint64_t generation,
                                                        const std::string& exec_id,
                                                        ProbeResult result) {
  auto c = find(id);
  if (!c) return std::nullopt;
  const int exit_code = result.exit_code;
  bool changed = false;
  HealthStatus status{};
  int64_t delay = 0;
  {
    std::lock_guard lock((*c)->mutex);
    auto& s = (*c)->record.state;
    if ((*c)->health_generation != generation || !s.health || s.status != State::kRunning) {
      return std::nullopt;
    }
    auto probe = probe_config((*c)->record.config);
    if (!probe) return std::nullopt;
    changed = record_probe_result(*s.health, *probe, std::move(result), s.started_at);
    status = s.health->status;
    // Every result stays in memory (inspect reads it there); a change of status is written at
    // once, the rest with the next write of the record or at berthd's stop, as dockerd does.
    if (changed) (void)persist(**c);
    delay = next_probe_delay(*probe, status, now_unix_nano() - s.started_at);
  }
  publish(**c, "exec_die", {{"execID", exec_id}, {"exitCode", std::to_string(exit_code)}});
  if (changed) {
    logging::get("health")->debug("container {}: {}", id.substr(0, 12), health_status_name(status));
    publish(**c, "health_status: " + std::string(health_status_name(status)));
  }
  return delay;
}

}  // namespace berth::core::container
