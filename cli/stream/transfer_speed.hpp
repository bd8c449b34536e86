// The speed shown after a layer's progress bar in a terminal ("12.5MB/s"), which docker's bar
// lacks: per id, the bytes moved since its first progress message over the time since then.
// Pure (the caller passes the time), so it is tested without a clock.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace berth::cli {

class TransferSpeed {
 public:
  // Records that `id` had moved `current` bytes at `now_seconds` (any monotonic origin).
  // A counter that goes back (a new phase: Downloading then Extracting) starts over.
  void sample(const std::string& id, int64_t current, double now_seconds);
  // " 12.5MB/s", or "" until half a second has passed since the id's first sample.
  std::string render(const std::string& id) const;
  void forget(const std::string& id) { seen_.erase(id); }

 private:
  struct Seen {
    double first_time = 0;
    int64_t first_bytes = 0;
    double last_time = 0;
    int64_t last_bytes = 0;
  };
  std::map<std::string, Seen> seen_;
};

}  // namespace berth::cli
