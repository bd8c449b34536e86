#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace berth::cli {

// Handles signals in a dedicated thread (sigtimedwait) instead of async handlers, so the
// callback may do real work (POST /kill, POST /resize, restore the terminal). Construct it
// before starting other threads: the signals are blocked in the constructing thread and new
// threads inherit that mask.
class SignalThread {
 public:
  SignalThread(std::vector<int> signals, std::function<void(int)> on_signal);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  std::vector<int> signals_;
  std::function<void(int)> on_signal_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Name docker sends in kill?signal= for a signal number ("INT", "TERM", ...); empty if none.
const char* signal_name(int sig);

// Dies by `sig` with the default action after restoring the terminal (used when a signal is
// not proxied to the container).
[[noreturn]] void die_by_signal(int sig);

}  // namespace berth::cli
