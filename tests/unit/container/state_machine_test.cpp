// The lifecycle's pure transition function: Docker's answers for every (state, action) pair that
// clients can tell apart, and the recovery cases a crash leaves behind.
#include "core/container/state_machine.hpp"

#include <gtest/gtest.h>

namespace berth::core::container {
namespace {

constexpr State kAll[] = {State::kCreated,  State::kRunning, State::kPaused, State::kRestarting,
                          State::kRemoving, State::kExited,  State::kDead};

TEST(StateMachine, StartRunsCreatedAndExitedAndIsANoopWhenRunning) {
  EXPECT_EQ(transition(State::kCreated, Action::kStart, "c").next, State::kRunning);
  EXPECT_EQ(transition(State::kExited, Action::kStart, "c").next, State::kRunning);
  EXPECT_EQ(transition(State::kRunning, Action::kStart, "c").kind, Transition::kNoop);
  EXPECT_EQ(transition(State::kRestarting, Action::kStart, "c").kind, Transition::kNoop);
  auto paused = transition(State::kPaused, Action::kStart, "c");
  EXPECT_EQ(paused.kind, Transition::kConflict);
  EXPECT_EQ(paused.message, "cannot start a paused container, try unpause instead");
  EXPECT_EQ(transition(State::kRemoving, Action::kStart, "c").kind, Transition::kConflict);
  EXPECT_EQ(transition(State::kDead, Action::kStart, "c").message, "cannot start a dead container c");
}

TEST(StateMachine, StopIsANoopUnlessSomethingRuns) {
  for (State s : {State::kRunning, State::kPaused, State::kRestarting}) {
    auto t = transition(s, Action::kStop, "c");
    EXPECT_EQ(t.kind, Transition::kOk) << state_name(s);
    EXPECT_EQ(t.next, State::kExited) << state_name(s);
  }
  for (State s : {State::kCreated, State::kExited, State::kRemoving, State::kDead}) {
    EXPECT_EQ(transition(s, Action::kStop, "c").kind, Transition::kNoop) << state_name(s);
  }
}

TEST(StateMachine, PauseAndUnpauseUseDockersMessages) {
  EXPECT_EQ(transition(State::kRunning, Action::kPause, "c").next, State::kPaused);
  EXPECT_EQ(transition(State::kPaused, Action::kPause, "c").message, "Container c is already paused");
  EXPECT_EQ(transition(State::kExited, Action::kPause, "c").message, "Container c is not running");
  EXPECT_EQ(transition(State::kPaused, Action::kUnpause, "c").next, State::kRunning);
  EXPECT_EQ(transition(State::kRunning, Action::kUnpause, "c").message, "Container c is not paused");
}

TEST(StateMachine, ExitsNeverResurrectARemovalOrADeadContainer) {
  EXPECT_EQ(transition(State::kRunning, Action::kExited, "c").next, State::kExited);
  EXPECT_EQ(transition(State::kRunning, Action::kRestartLater, "c").next, State::kRestarting);
  for (State s : {State::kRemoving, State::kDead}) {
    EXPECT_EQ(transition(s, Action::kExited, "c").next, s);
    EXPECT_EQ(transition(s, Action::kRestartLater, "c").next, s);
  }
}

TEST(StateMachine, PlainRemoveRefusesWhatRunsWithDockersWords) {
  EXPECT_EQ(transition(State::kCreated, Action::kRemove, "c").next, State::kRemoving);
  EXPECT_EQ(transition(State::kExited, Action::kRemove, "c").next, State::kRemoving);
  EXPECT_EQ(transition(State::kDead, Action::kRemove, "c").next, State::kRemoving);
  auto running = transition(State::kRunning, Action::kRemove, "c");
  EXPECT_EQ(running.kind, Transition::kConflict);
  EXPECT_EQ(running.message,
            "You cannot remove a running container c. Stop the container before attempting "
            "removal or force remove");
  EXPECT_EQ(transition(State::kPaused, Action::kRemove, "c").kind, Transition::kConflict);
}

// berthd killed during `rm -f` leaves a record in "removing": the removal must be finishable,
// forced or not (the manager refuses one that is really still running, which it alone knows).
TEST(StateMachine, AnInterruptedRemovalCanBeFinished) {
  for (Action a : {Action::kRemove, Action::kForceRemove}) {
    auto t = transition(State::kRemoving, a, "c");
    EXPECT_EQ(t.kind, Transition::kOk);
    EXPECT_EQ(t.next, State::kRemoving);
  }
}

TEST(StateMachine, ForceRemoveIsAcceptedFromEveryState) {
  for (State s : kAll) {
    auto t = transition(s, Action::kForceRemove, "c");
    EXPECT_EQ(t.kind, Transition::kOk) << state_name(s);
    EXPECT_EQ(t.next, State::kRemoving) << state_name(s);
  }
}

TEST(StateMachine, AFailedRemovalLeavesADeadContainer) {
  for (State s : kAll) EXPECT_EQ(transition(s, Action::kRemoveFailed, "c").next, State::kDead);
}

TEST(StateMachine, RestoreAdoptsOnlyWhatWasRunning) {
  for (State s : {State::kRunning, State::kPaused, State::kRestarting}) {
    EXPECT_EQ(transition(s, Action::kAdopted, "c1").next, State::kRunning);
    EXPECT_EQ(transition(s, Action::kAdoptedPaused, "c1").next, State::kPaused);
  }
  for (State s : {State::kCreated, State::kExited, State::kRemoving, State::kDead}) {
    EXPECT_EQ(transition(s, Action::kAdopted, "c1").kind, Transition::kConflict) << state_name(s);
  }
}

}  // namespace
}  // namespace berth::core::container
