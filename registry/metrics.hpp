// Counters for /metrics in the Prometheus text format: requests by route, method and status,
// bytes in and out, uploads in progress, garbage-collection runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "registry/http_server.hpp"

namespace berth::registry {

class Metrics {
 public:
  void record(const AccessRecord& record);
  void record_gc_run(size_t blobs_deleted, size_t manifests_deleted);
  // The exposition text; `uploads_in_progress` is sampled by the caller.
  std::string render(size_t uploads_in_progress) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, unsigned>, uint64_t> requests_;
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
  std::atomic<uint64_t> gc_runs_{0};
  std::atomic<uint64_t> gc_blobs_deleted_{0};
  std::atomic<uint64_t> gc_manifests_deleted_{0};
  std::map<std::string, std::pair<uint64_t, double>> durations_;  // route → count, seconds
};

}  // namespace berth::registry
