#include "core/container/state_machine.hpp"

namespace berth::core::container {

std::string_view state_name(State s) {
  switch (s) {
    case State::kCreated: return "created";
    case State::kRunning: return "running";
    case State::kPaused: return "paused";
    case State::kRestarting: return "restarting";
    case State::kRemoving: return "removing";
    case State::kExited: return "exited";
    case State::kDead: return "dead";
  }
  return "dead";
}

namespace {

Transition ok(State next) { return {Transition::kOk, next, {}}; }
Transition noop(State same) { return {Transition::kNoop, same, {}}; }
Transition conflict(State same, std::string message) {
  return {Transition::kConflict, same, std::move(message)};
}

}  // namespace

Transition transition(State from, Action action, std::string_view id_view) {
  std::string id(id_view);
  switch (action) {
    case Action::kStart:
      switch (from) {
        case State::kCreated:
        case State::kExited: return ok(State::kRunning);
        case State::kRunning:
        case State::kRestarting: return noop(from);
        case State::kPaused:
          return conflict(from, "cannot start a paused container, try unpause instead");
        case State::kRemoving:
          return conflict(from, "container is marked for removal and cannot be started");
        case State::kDead: return conflict(from, "cannot start a dead container " + id);
      }
      break;
    case Action::kStarted:
      if (from == State::kRunning || from == State::kRestarting || from == State::kCreated ||
          from == State::kExited) {
        return ok(State::kRunning);
      }
      return conflict(from, "container " + id + " is " + std::string(state_name(from)));
    case Action::kStartFailed:
      // A failed start leaves the container where it was (created stays created, as dockerd).
      if (from == State::kRunning || from == State::kRestarting) return ok(State::kExited);
      return ok(from);
    case Action::kStop:
      switch (from) {
        case State::kRunning:
        case State::kPaused:
        case State::kRestarting: return ok(State::kExited);
        case State::kCreated:
        case State::kExited: return noop(from);
        case State::kRemoving:
        case State::kDead: return noop(from);
      }
      break;
    case Action::kKill:
      if (from == State::kRunning || from == State::kPaused) return ok(from);
      if (from == State::kRestarting) return ok(State::kExited);
      return conflict(from, "Container " + id + " is not running");
    case Action::kPause:
      if (from == State::kRunning) return ok(State::kPaused);
      if (from == State::kPaused) return conflict(from, "Container " + id + " is already paused");
      if (from == State::kRestarting) {
        return conflict(from, "Container " + id + " is restarting, wait until the container is running");
      }
      return conflict(from, "Container " + id + " is not running");
    case Action::kUnpause:
      if (from == State::kPaused) return ok(State::kRunning);
      return conflict(from, "Container " + id + " is not paused");
    case Action::kExited:
      if (from == State::kRemoving || from == State::kDead) return ok(from);
      return ok(State::kExited);
    case Action::kRestartLater:
      if (from == State::kRemoving || from == State::kDead) return ok(from);
      return ok(State::kRestarting);
    case Action::kRemove:
      switch (from) {
        case State::kCreated:
        case State::kExited:
        case State::kDead: return ok(State::kRemoving);
        case State::kRunning:
        case State::kRestarting:
          return conflict(from, "You cannot remove a running container " + id +
                                    ". Stop the container before attempting removal or force remove");
        case State::kPaused:
          return conflict(from, "You cannot remove a paused container " + id +
                                    ". Unpause and then stop the container before attempting removal "
                                    "or force remove");
        case State::kRemoving:
          // Left by a removal that was interrupted (berthd killed half-way): finish it. A
          // removal still running is refused before this, by the manager, which knows.
          return ok(State::kRemoving);
      }
      break;
    case Action::kForceRemove:
      return ok(State::kRemoving);
    case Action::kRemoveFailed:
      // Dead: "failed to be deleted"; cleaned up again at the next daemon start.
      return ok(State::kDead);
    case Action::kAdopted:
    case Action::kAdoptedPaused:
      // The record said running, paused or restarting when berthd stopped; the task says which.
      if (from == State::kRunning || from == State::kPaused || from == State::kRestarting) {
        return ok(action == Action::kAdopted ? State::kRunning : State::kPaused);
      }
      return conflict(from, "container " + id + " is " + std::string(state_name(from)));
  }
  return conflict(from, "invalid transition");
}

}  // namespace berth::core::container
