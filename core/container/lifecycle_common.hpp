// What the lifecycle's files (start.cpp, stop_kill.cpp, pause.cpp, remove.cpp, exits.cpp,
// wait_attach.cpp, restore.cpp) share: state changes through the state machine, Docker's
// not-found and conflict statuses, and the exit code of a failed start.
#pragma once

#include <string>
#include <string_view>

#include "core/common/result.hpp"
#include "core/container/container.hpp"
#include "core/container/state_machine.hpp"

namespace berth::core::container::lifecycle {

// Every state change goes through the state machine: `action` moves the record's state when
// the machine allows it (kOk), and leaves it alone otherwise.
inline bool apply(ContainerRecord& r, Action action) {
  auto t = transition(r.state.status, action, r.id);
  if (t.kind != Transition::kOk) return false;
  r.state.status = t.next;
  return true;
}

// 404, with dockerd's message: the one wording for a container that is not (or no longer) there.
inline Error no_such_container(std::string_view name) {
  return make_error(ErrorCode::kNotFound, "No such container: " + std::string(name));
}

// 409, with dockerd's message.
inline Error conflict(std::string message) {
  return make_error(ErrorCode::kFailedPrecondition, std::move(message));
}

// The exit code dockerd records for a start that failed, from the runtime's message.
inline int start_failure_code(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos) {
    return 127;
  }
  if (message.find("permission denied") != std::string::npos) return 126;
  return 128;
}

}  // namespace berth::core::container::lifecycle
