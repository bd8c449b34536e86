// docker exec: create, start (attached or detached), inspect, resize.
#include <boost/json.hpp>

#include "berth/sdk/codec.hpp"
#include "core/common/ids.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/oci_spec.hpp"
#include "core/container/user_lookup.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

using json_fields::str;
using json_fields::flag;

std::string command_line(const json::object& exec) {
  std::string out;
  if (const auto* a = exec.if_contains("Cmd"); a != nullptr && a->is_array()) {
    for (const auto& s : a->get_array()) {
      if (s.is_string()) out += (out.empty() ? "" : " ") + std::string(s.get_string());
    }
  }
  return out;
}

}  // namespace

Result<std::string> ContainerManager::exec_create(std::string_view name, const json::object& body) {
  auto c = find(name);
  if (!c) return c.error();
  const auto* cmd = body.if_contains("Cmd");
  if (cmd == nullptr || !cmd->is_array() || cmd->get_array().empty()) {
    return make_error(ErrorCode::kInvalidArgument, "No exec command specified");
  }
  for (const auto& s : cmd->get_array()) {
    if (!s.is_string()) return make_error(ErrorCode::kInvalidArgument, "Cmd must be an array of strings");
  }
  auto exec = std::make_shared<ExecRecord>();
  exec->id = new_object_id();
  exec->config = body;
  {
    std::lock_guard lock((*c)->mutex);
    auto& r = (*c)->record;
    switch (r.state.status) {
      case State::kRunning: break;
      case State::kPaused:
        return make_error(ErrorCode::kFailedPrecondition,
                          "Container " + std::string(name) + " is paused, unpause the container before exec");
      case State::kRestarting:
        return make_error(ErrorCode::kFailedPrecondition,
                          "Container " + r.id + " is restarting, wait until the container is running");
      default: return make_error(ErrorCode::kFailedPrecondition, "Container " + r.id + " is not running");
    }
    exec->container_id = r.id;
    (*c)->execs[exec->id] = exec;
  }
  {
    std::lock_guard lock(mutex_);
    execs_[exec->id] = exec;
  }
  publish(**c, "exec_create: " + command_line(body), {{"execID", exec->id}});
  return exec->id;
}

Result<std::shared_ptr<ExecRecord>> ContainerManager::find_exec(std::string_view exec_id) const {
  std::lock_guard lock(mutex_);
  auto it = execs_.find(std::string(exec_id));
  if (it == execs_.end()) {
    return make_error(ErrorCode::kNotFound, "No such exec instance: " + std::string(exec_id));
  }
  return it->second;
}

Result<UniqueFd> ContainerManager::exec_start(sdk::Context& ctx, const std::shared_ptr<ExecRecord>& exec, bool attach) {
  auto c = find(exec->container_id);
  if (!c) return c.error();
  ContainerRecord rec;
  json::object config;
  {
    std::lock_guard lock((*c)->mutex);
    if (exec->started) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "Error: Exec command " + exec->id + " is already running");
    }
    rec = (*c)->record;
    if (rec.state.status != State::kRunning) {
      return make_error(ErrorCode::kFailedPrecondition, "Container " + rec.id + " is not running");
    }
    exec->started = true;
    exec->running = true;
    config = exec->config;
  }
  auto fail = [&](Error e) -> Error {
    {
      std::lock_guard lock((*c)->mutex);
      exec->running = false;
      // dockerd records 126 for any exec that could not start.
      exec->exit_code = 126;
    }
    (*c)->changed.notify_all();
    return e;
  };
  ResolvedUser user;
  std::string spec = str(config, "User");
  if (spec.empty()) spec = str(rec.config, "User");
  std::vector<std::string> group_add;
  if (const auto* g = rec.host_config.if_contains("GroupAdd"); g != nullptr && g->is_array()) {
    for (const auto& v : g->get_array()) {
      if (v.is_string()) group_add.emplace_back(v.get_string());
    }
  }
  auto resolved = resolve_user_in_root("/proc/" + std::to_string(rec.state.pid) + "/root",
                                       spec.empty() ? "0" : spec, group_add);
  if (!resolved) return fail(resolved.error());
  user = *resolved;
  auto process = build_exec_process(rec, config, user);
  if (!process) return fail(process.error());
  sdk::ExecSpec es;
  es.process_json = json::serialize(*process);
  es.stdio = {flag(config, "Tty"), attach && flag(config, "AttachStdin"), true};
  auto pid = isolation_->exec(ctx, rec.id, exec->id, es);
  if (!pid) return fail(pid.error());
  {
    std::lock_guard lock((*c)->mutex);
    exec->pid = *pid;
  }
  UniqueFd stream;
  if (attach) {
    sdk::AttachOptions opts{flag(config, "AttachStdin"), flag(config, "AttachStdout"),
                            flag(config, "AttachStderr")};
    auto fd = isolation_->attach(ctx, rec.id, exec->id, opts);
    if (!fd) {
      (void)isolation_->kill(ctx, rec.id, 9, true);
      return fail(fd.error());
    }
    stream.reset(*fd);
  }
  if (auto s = isolation_->start(ctx, rec.id, exec->id); !s) return fail(s.error());
  publish(**c, "exec_start: " + command_line(config), {{"execID", exec->id}});
  return stream;
}

void ContainerManager::exec_wait_exit(const std::shared_ptr<ExecRecord>& exec, int timeout_ms) {
  auto c = find(exec->container_id);
  if (!c) return;
  std::unique_lock lock((*c)->mutex);
  (*c)->changed.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [&] { return exec->exit_code.has_value() || !exec->running; });
}

json::object ContainerManager::exec_inspect(const ExecRecord& e) const {
  json::array args;
  std::string entrypoint;
  if (const auto* a = e.config.if_contains("Cmd"); a != nullptr && a->is_array()) {
    bool first = true;
    for (const auto& s : a->get_array()) {
      if (!s.is_string()) continue;
      if (first) entrypoint = std::string(s.get_string());
      else args.emplace_back(s.get_string());
      first = false;
    }
  }
  json::object process{{"tty", flag(e.config, "Tty")},
                       {"entrypoint", entrypoint},
                       {"arguments", std::move(args)},
                       {"privileged", flag(e.config, "Privileged")}};
  if (auto u = str(e.config, "User"); !u.empty()) process["user"] = u;
  return json::object{
      {"ID", e.id},
      {"Running", e.running},
      {"ExitCode", e.exit_code ? json::value(*e.exit_code) : json::value(nullptr)},
      {"ProcessConfig", std::move(process)},
      {"OpenStdin", flag(e.config, "AttachStdin")},
      {"OpenStderr", flag(e.config, "AttachStderr")},
      {"OpenStdout", flag(e.config, "AttachStdout")},
      {"CanRemove", false},
      {"ContainerID", e.container_id},
      {"DetachKeys", str(e.config, "DetachKeys")},
      {"Pid", e.pid}};
}

Status ContainerManager::exec_resize(sdk::Context& ctx, std::string_view exec_id, uint32_t rows, uint32_t cols) {
  auto exec = find_exec(exec_id);
  if (!exec) return exec.error();
  return isolation_->resize(ctx, (*exec)->container_id, (*exec)->id, rows, cols);
}

}  // namespace berth::core::container
