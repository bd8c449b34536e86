#include "core/container/health.hpp"

#include <boost/json.hpp>
#include <cstdio>

#include "core/common/json_fields.hpp"
#include "core/common/time.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

using json_fields::num;
using json_fields::str;

std::vector<std::string> string_list(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (v == nullptr) return out;
  if (v->is_string()) {
    out.emplace_back(v->get_string());  // Docker's strslice accepts a bare string
  } else if (v->is_array()) {
    for (const auto& e : v->get_array()) {
      if (e.is_string()) out.emplace_back(e.get_string());
    }
  }
  return out;
}

bool has_test(const json::object& hc) { return !string_list(hc, "Test").empty(); }

}  // namespace

json::value merge_healthcheck(const json::value* container, const json::value* image) {
  const bool has_container = container != nullptr && container->is_object();
  const bool has_image = image != nullptr && image->is_object();
  if (!has_container && !has_image) return nullptr;
  const json::object empty;
  const auto& ctr = has_container ? container->get_object() : empty;
  const auto& img = has_image ? image->get_object() : empty;
  // Go's HealthConfig omits empty fields: a client's nulls and zeros do not show in inspect.
  json::object out;
  if (has_test(ctr)) out["Test"] = ctr.at("Test");
  else if (has_test(img)) out["Test"] = img.at("Test");
  for (const char* key : {"Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"}) {
    if (int64_t v = num(ctr, key) != 0 ? num(ctr, key) : num(img, key); v != 0) out[key] = v;
  }
  return out;
}

Status validate_healthcheck(const json::value& v) {
  if (!v.is_object()) return {};
  const auto& hc = v.get_object();
  auto invalid = [](const std::string& m) { return make_error(ErrorCode::kInvalidArgument, m); };
  auto too_short = [&](const char* key) {
    int64_t d = num(hc, key);
    return d != 0 && d < kHealthMinimumDuration;
  };
  if (too_short("Interval")) return invalid("Interval in Healthcheck cannot be less than 1ms");
  if (too_short("Timeout")) return invalid("Timeout in Healthcheck cannot be less than 1ms");
  if (num(hc, "Retries") < 0) return invalid("Retries in Healthcheck cannot be negative");
  if (too_short("StartPeriod")) return invalid("StartPeriod in Healthcheck cannot be less than 1ms");
  if (too_short("StartInterval")) {
    return invalid("StartInterval in Healthcheck cannot be less than 1ms");
  }
  return {};
}

std::optional<ProbeConfig> probe_config(const json::object& config) {
  const auto* v = config.if_contains("Healthcheck");
  if (v == nullptr || !v->is_object()) return std::nullopt;
  const auto& hc = v->get_object();
  auto test = string_list(hc, "Test");
  if (test.empty()) return std::nullopt;
  ProbeConfig p;
  if (test[0] == "CMD") {
    p.argv.assign(test.begin() + 1, test.end());
  } else if (test[0] == "CMD-SHELL") {
    p.argv = string_list(config, "Shell");
    if (p.argv.empty()) p.argv = {"/bin/sh", "-c"};
    p.argv.insert(p.argv.end(), test.begin() + 1, test.end());
  } else {
    return std::nullopt;  // "NONE", or a type dockerd ignores with a warning
  }
  if (p.argv.empty()) return std::nullopt;
  auto or_default = [&](const char* key, int64_t d) { return num(hc, key) > 0 ? num(hc, key) : d; };
  p.interval = or_default("Interval", kHealthDefaultInterval);
  p.timeout = or_default("Timeout", kHealthDefaultTimeout);
  p.start_period = or_default("StartPeriod", kHealthDefaultStartPeriod);
  p.start_interval = or_default("StartInterval", kHealthDefaultStartInterval);
  p.retries = static_cast<int>(or_default("Retries", kHealthDefaultRetries));
  return p;
}

std::string_view health_status_name(HealthStatus s) {
  switch (s) {
    case HealthStatus::kStarting: return "starting";
    case HealthStatus::kHealthy: return "healthy";
    case HealthStatus::kUnhealthy: return "unhealthy";
  }
  return "unhealthy";
}

std::string health_status_text(HealthStatus s) {
  return s == HealthStatus::kStarting ? "health: starting" : std::string(health_status_name(s));
}

void health_monitor_started(HealthState& h) {
  h.status = HealthStatus::kStarting;
  h.failing_streak = 0;
}

void health_monitor_stopped(HealthState& h) { h.status = HealthStatus::kUnhealthy; }

bool record_probe_result(HealthState& h, const ProbeConfig& probe, ProbeResult result,
                         int64_t container_started_at) {
  const HealthStatus before = h.status;
  const bool failed = result.exit_code != 0;
  const int64_t start = result.start;
  h.log.push_back(std::move(result));
  while (h.log.size() > kHealthMaxLogEntries) h.log.pop_front();
  if (!failed) {
    h.failing_streak = 0;
    h.status = HealthStatus::kHealthy;
  } else if (h.status != HealthStatus::kStarting ||
             start - container_started_at >= probe.start_period) {
    // Failures inside the start period do not count while the container has never been healthy.
    ++h.failing_streak;
    if (h.failing_streak >= probe.retries) h.status = HealthStatus::kUnhealthy;
  }
  return h.status != before;
}

int64_t next_probe_delay(const ProbeConfig& probe, HealthStatus status, int64_t since_started) {
  if (since_started >= probe.start_period) return probe.interval;
  const int64_t rest = probe.start_period - since_started;
  if (rest < probe.interval) return rest;
  return status == HealthStatus::kStarting ? probe.start_interval : probe.interval;
}

void ProbeOutput::append(std::string_view data) {
  const size_t room = kHealthMaxOutput - kept_.size();
  if (data.size() > room) truncated_ = true;
  kept_.append(data.substr(0, room));
}

void ProbeOutput::append_frames(std::string_view data) {
  while (!data.empty()) {
    if (payload_left_ == 0) {
      const size_t need = 8 - header_.size();
      header_.append(data.substr(0, need));
      data.remove_prefix(std::min(need, data.size()));
      if (header_.size() < 8) return;
      const auto* h = reinterpret_cast<const unsigned char*>(header_.data());
      payload_left_ = (uint32_t{h[4]} << 24) | (uint32_t{h[5]} << 16) | (uint32_t{h[6]} << 8) | h[7];
      header_.clear();
      continue;
    }
    const size_t take = std::min<size_t>(payload_left_, data.size());
    append(data.substr(0, take));
    data.remove_prefix(take);
    payload_left_ -= static_cast<uint32_t>(take);
  }
}

std::string ProbeOutput::text() const { return truncated_ ? kept_ + "..." : kept_; }

std::string go_duration(int64_t d) {
  if (d == 0) return "0s";
  std::string sign = d < 0 ? "-" : "";
  uint64_t u = d < 0 ? static_cast<uint64_t>(-(d + 1)) + 1 : static_cast<uint64_t>(d);
  // Below a second: one unit with a fraction (ns, µs, ms), as Go prints it.
  auto fraction = [](uint64_t v, uint64_t unit) {
    std::string s = std::to_string(v / unit);
    uint64_t rest = v % unit;
    if (rest != 0) {
      std::string digits = std::to_string(rest);
      digits.insert(0, std::to_string(unit).size() - 1 - digits.size(), '0');
      while (!digits.empty() && digits.back() == '0') digits.pop_back();
      s += "." + digits;
    }
    return s;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fraction(u, 1000) + "µs";
  if (u < 1000000000) return sign + fraction(u, 1000000) + "ms";
  const uint64_t hours = u / 3600000000000ULL;
  u -= hours * 3600000000000ULL;
  const uint64_t minutes = u / 60000000000ULL;
  u -= minutes * 60000000000ULL;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + fraction(u, 1000000000) + "s";
}

json::object health_json(const HealthState& h) {
  json::array log;
  for (const auto& r : h.log) {
    log.push_back(json::object{{"Start", rfc3339_nano(r.start)},
                               {"End", rfc3339_nano(r.end)},
                               {"ExitCode", r.exit_code},
                               {"Output", r.output}});
  }
  return json::object{{"Status", health_status_name(h.status)},
                      {"FailingStreak", h.failing_streak},
                      {"Log", std::move(log)}};
}

json::object health_record_json(const HealthState& h) {
  json::array log;
  for (const auto& r : h.log) {
    log.push_back(json::object{
        {"start", r.start}, {"end", r.end}, {"exit_code", r.exit_code}, {"output", r.output}});
  }
  return json::object{{"status", health_status_name(h.status)},
                      {"failing_streak", h.failing_streak},
                      {"log", std::move(log)}};
}

std::optional<HealthState> health_from_record_json(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  HealthState h;
  std::string status = str(o, "status");
  h.status = status == "healthy"    ? HealthStatus::kHealthy
             : status == "starting" ? HealthStatus::kStarting
                                    : HealthStatus::kUnhealthy;
  h.failing_streak = static_cast<int>(num(o, "failing_streak"));
  if (const auto* log = o.if_contains("log"); log != nullptr && log->is_array()) {
    for (const auto& e : log->get_array()) {
      if (!e.is_object()) continue;
      const auto& r = e.get_object();
      h.log.push_back(ProbeResult{num(r, "start"), num(r, "end"),
                                  static_cast<int>(num(r, "exit_code")), str(r, "output")});
    }
    while (h.log.size() > kHealthMaxLogEntries) h.log.pop_front();
  }
  return h;
}

}  // namespace berth::core::container
