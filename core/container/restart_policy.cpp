#include "core/container/restart_policy.hpp"

#include <algorithm>

namespace berth::core::container {

RestartDecision decide_restart(const RestartPolicy& policy, const RunEnd& end, int64_t previous_backoff_ms) {
  RestartDecision d;
  // Backoff doubles from 100 ms up to a minute, and starts over after a run of 10 s or more.
  int64_t base = end.ran_ms >= kBackoffResetAfterMs ? 0 : previous_backoff_ms;
  d.backoff_ms = base == 0 ? kFirstBackoffMs : std::min(base * 2, kMaxBackoffMs);
  if (end.stop_requested || end.removing) return d;
  const auto& p = policy.name;
  if (p == "always") {
    d.restart = true;
  } else if (p == "unless-stopped") {
    d.restart = !end.manually_stopped;
  } else if (p == "on-failure") {
    d.restart = end.exit_code != 0 && (policy.max_retries == 0 || end.restart_count < policy.max_retries);
  }
  if (d.restart) d.delay = std::chrono::milliseconds(d.backoff_ms);
  return d;
}

}  // namespace berth::core::container
