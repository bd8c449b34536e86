// Healthchecks, the pure part: what a container's Config.Healthcheck means once merged with its
// image's, and what a probe's result does to State.Health (status, failing streak, the last five
// results). dockerd's rules (daemon/health.go, daemon/commit.go); no I/O, no clock: the scheduler
// that runs probes (health_scheduler.hpp) passes the times in.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::container {

// dockerd's defaults and limits (nanoseconds).
inline constexpr int64_t kHealthDefaultInterval = 30'000'000'000;
inline constexpr int64_t kHealthDefaultTimeout = 30'000'000'000;
inline constexpr int64_t kHealthDefaultStartPeriod = 0;
inline constexpr int64_t kHealthDefaultStartInterval = 5'000'000'000;
inline constexpr int kHealthDefaultRetries = 3;
inline constexpr size_t kHealthMaxLogEntries = 5;
inline constexpr size_t kHealthMaxOutput = 4096;
inline constexpr int64_t kHealthMinimumDuration = 1'000'000;  // 1ms

// Config.Healthcheck after create's merge: the container's fields override the image's one by
// one when non-zero (dockerd's merge in daemon/commit.go). Returns null when neither has one.
boost::json::value merge_healthcheck(const boost::json::value* container,
                                     const boost::json::value* image);

// dockerd's checks of the Healthcheck a create asks for (daemon/container.go), its wording.
Status validate_healthcheck(const boost::json::value& healthcheck);

// What a probe runs and how often: the merged config with the defaults filled in.
struct ProbeConfig {
  std::vector<std::string> argv;  // CMD-SHELL already wrapped in the shell
  int64_t interval = kHealthDefaultInterval;
  int64_t timeout = kHealthDefaultTimeout;
  int64_t start_period = kHealthDefaultStartPeriod;
  int64_t start_interval = kHealthDefaultStartInterval;
  int retries = kHealthDefaultRetries;
};

// The probe of a merged Config (its Healthcheck and Shell), or nullopt when there is none: no
// Healthcheck, an empty Test, ["NONE"], or a type dockerd does not know.
std::optional<ProbeConfig> probe_config(const boost::json::object& config);

enum class HealthStatus { kStarting, kHealthy, kUnhealthy };
std::string_view health_status_name(HealthStatus s);

struct ProbeResult {
  int64_t start = 0;  // unix nano
  int64_t end = 0;
  int exit_code = 0;  // 0 healthy; -1 the probe could not run or timed out
  std::string output;
};

// State.Health.
struct HealthState {
  HealthStatus status = HealthStatus::kStarting;
  int failing_streak = 0;
  std::deque<ProbeResult> log;  // oldest first, at most kHealthMaxLogEntries
};

// Probing begins (start, restart, unpause after a restore): "starting", streak 0, the log kept.
void health_monitor_started(HealthState& h);
// Probing ends (exit, stop, pause): dockerd reports "unhealthy" from then on.
void health_monitor_stopped(HealthState& h);

// Records a result; returns true when the status changed (dockerd then sends a health_status
// event). A failure within the start period while still "starting" does not count.
bool record_probe_result(HealthState& h, const ProbeConfig& probe, ProbeResult result,
                         int64_t container_started_at);

// Nanoseconds until the next probe, counted from the end of the last one (or from the start of
// monitoring): start_interval while "starting" inside the start period, the rest of the start
// period when that is shorter than the interval, else the interval.
int64_t next_probe_delay(const ProbeConfig& probe, HealthStatus status, int64_t since_started);

// A probe's output as dockerd keeps it: the first 4096 bytes, "..." appended when cut.
// Both streams go to one buffer, as dockerd's probe gives one writer for stdout and stderr.
class ProbeOutput {
 public:
  void append(std::string_view data);
  // Bytes of an attach stream without a terminal: 8-byte headers (stream, 0, 0, 0, big-endian
  // size) before each payload, split anywhere across calls.
  void append_frames(std::string_view data);
  [[nodiscard]] std::string text() const;

 private:
  std::string kept_;
  bool truncated_ = false;
  std::string header_;      // a header read in part
  uint32_t payload_left_ = 0;  // bytes of the current frame still to come
};

// Go's time.Duration.String(), for dockerd's "Health check exceeded timeout (1.5s)".
std::string go_duration(int64_t nanos);

// "health: starting", "healthy", "unhealthy": what ps appends to "Up 3 minutes (...)".
std::string health_status_text(HealthStatus s);

// State.Health as inspect shows it: {"Status","FailingStreak","Log":[{"Start","End","ExitCode",
// "Output"}]} with RFC 3339 times.
boost::json::object health_json(const HealthState& h);
// The record's copy (config.v2.json), times in unix nanoseconds.
boost::json::object health_record_json(const HealthState& h);
std::optional<HealthState> health_from_record_json(const boost::json::value& v);

}  // namespace berth::core::container
