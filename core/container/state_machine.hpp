// The container lifecycle as an explicit state machine: one enum, one pure transition function,
// Docker's observable answers (204 / 304 for a no-op / 409 with dockerd's messages). The
// manager asks it before every change and persists the state it returns.
#pragma once

#include <string>
#include <string_view>

namespace berth::core::container {

enum class State { kCreated, kRunning, kPaused, kRestarting, kRemoving, kExited, kDead };

// "created", "running", ... as the API spells them.
std::string_view state_name(State s);

enum class Action {
  kStart,          // POST start
  kStarted,        // the task is running (start finished, or a restart's start)
  kStartFailed,    // the task could not start (exec failed, ...)
  kStop,           // POST stop / restart's stop
  kKill,           // POST kill
  kPause,
  kUnpause,
  kExited,         // the task exited and will not restart
  kRestartLater,   // the task exited and the restart policy will start it again
  kRemove,         // DELETE without force
  kForceRemove,    // DELETE ?force=1
  kRemoveFailed,   // removal failed half-way
  kAdopted,        // at daemon start, the backend still runs the container's task
  kAdoptedPaused,  // ... and it is frozen
};

struct Transition {
  enum Kind {
    kOk,        // proceed; `next` is the new state
    kNoop,      // nothing to do: 304 Not Modified
    kConflict,  // refused: 409 with `message`
  } kind = kOk;
  State next = State::kCreated;
  std::string message;  // for kConflict; may name the container (filled by the caller's id)
};

// Pure: the outcome of `action` on a container in `from`. `id` only fills Docker's messages.
Transition transition(State from, Action action, std::string_view id);

// Docker's derived booleans.
inline bool is_running(State s) {
  return s == State::kRunning || s == State::kPaused || s == State::kRestarting;
}

}  // namespace berth::core::container
