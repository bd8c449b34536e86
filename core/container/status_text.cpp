#include "core/container/status_text.hpp"

#include <cmath>

namespace berth::core::container {

std::string human_duration(int64_t nanos) {
  double d = static_cast<double>(nanos) / 1e9;
  auto seconds = static_cast<int64_t>(d);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  auto minutes = static_cast<int64_t>(d / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  auto hours = static_cast<int64_t>(std::round(d / 3600));
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(static_cast<int64_t>(d / 3600 / 24 / 365)) + " years";
}

std::string status_text(const ContainerState& s, int64_t now) {
  switch (s.status) {
    case State::kRunning: {
      std::string out = "Up " + human_duration(now - s.started_at);
      if (s.health) out += " (" + health_status_text(s.health->status) + ")";
      return out;
    }
    case State::kPaused: return "Up " + human_duration(now - s.started_at) + " (Paused)";
    case State::kRestarting:
      return "Restarting (" + std::to_string(s.exit_code) + ") " +
             human_duration(now - s.finished_at) + " ago";
    case State::kRemoving: return "Removal In Progress";
    case State::kDead: return "Dead";
    case State::kCreated: return "Created";
    case State::kExited:
      if (s.started_at == 0) return "Created";
      if (s.finished_at == 0) return "";
      return "Exited (" + std::to_string(s.exit_code) + ") " + human_duration(now - s.finished_at) +
             " ago";
  }
  return "";
}

}  // namespace berth::core::container
