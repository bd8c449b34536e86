#include "registry/metrics.hpp"

#include <fmt/format.h>

#include "registry/routes.hpp"

namespace berth::registry {

void Metrics::record(const AccessRecord& r) {
  std::string route(r.path == "/metrics" ? "metrics" : route_label(match_route(r.path).kind));
  bytes_in_ += r.bytes_in;
  bytes_out_ += r.bytes_out;
  std::lock_guard lock(mutex_);
  ++requests_[{route, r.method, r.status}];
  auto& [count, seconds] = durations_[route];
  ++count;
  seconds += static_cast<double>(r.duration.count()) / 1e6;
}

void Metrics::record_gc_run(size_t blobs_deleted, size_t manifests_deleted) {
  ++gc_runs_;
  gc_blobs_deleted_ += blobs_deleted;
  gc_manifests_deleted_ += manifests_deleted;
}

std::string Metrics::render(size_t uploads_in_progress) const {
  std::string out;
  out += "# HELP berth_registry_requests_total HTTP requests answered.\n";
  out += "# TYPE berth_registry_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      out += fmt::format("berth_registry_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                         route, method, status, count);
    }
    out += "# HELP berth_registry_request_duration_seconds Time to answer requests.\n";
    out += "# TYPE berth_registry_request_duration_seconds summary\n";
    for (const auto& [route, stats] : durations_) {
      out += fmt::format("berth_registry_request_duration_seconds_sum{{route=\"{}\"}} {:.6f}\n",
                         route, stats.second);
      out += fmt::format("berth_registry_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                         route, stats.first);
    }
  }
  out += "# HELP berth_registry_received_bytes_total Bytes received (headers and bodies).\n";
  out += "# TYPE berth_registry_received_bytes_total counter\n";
  out += fmt::format("berth_registry_received_bytes_total {}\n", bytes_in_.load());
  out += "# HELP berth_registry_sent_bytes_total Bytes sent (headers and bodies).\n";
  out += "# TYPE berth_registry_sent_bytes_total counter\n";
  out += fmt::format("berth_registry_sent_bytes_total {}\n", bytes_out_.load());
  out += "# HELP berth_registry_uploads_in_progress Blob uploads started and not yet closed.\n";
  out += "# TYPE berth_registry_uploads_in_progress gauge\n";
  out += fmt::format("berth_registry_uploads_in_progress {}\n", uploads_in_progress);
  out += "# HELP berth_registry_gc_runs_total Garbage collection runs.\n";
  out += "# TYPE berth_registry_gc_runs_total counter\n";
  out += fmt::format("berth_registry_gc_runs_total {}\n", gc_runs_.load());
  out += "# HELP berth_registry_gc_deleted_blobs_total Blobs removed by garbage collection.\n";
  out += "# TYPE berth_registry_gc_deleted_blobs_total counter\n";
  out += fmt::format("berth_registry_gc_deleted_blobs_total {}\n", gc_blobs_deleted_.load());
  out += "# HELP berth_registry_gc_deleted_manifests_total Manifests removed by garbage collection.\n";
  out += "# TYPE berth_registry_gc_deleted_manifests_total counter\n";
  out += fmt::format("berth_registry_gc_deleted_manifests_total {}\n", gc_manifests_deleted_.load());
  return out;
}

}  // namespace berth::registry
