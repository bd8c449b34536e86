#include "cli/stream/transfer_speed.hpp"

#include "cli/format/human.hpp"

namespace berth::cli {

void TransferSpeed::sample(const std::string& id, int64_t current, double now_seconds) {
  auto it = seen_.find(id);
  if (it == seen_.end() || current < it->second.last_bytes) {
    seen_[id] = Seen{now_seconds, current, now_seconds, current};
    return;
  }
  it->second.last_time = now_seconds;
  it->second.last_bytes = current;
}

std::string TransferSpeed::render(const std::string& id) const {
  auto it = seen_.find(id);
  if (it == seen_.end()) return "";
  const Seen& s = it->second;
  double elapsed = s.last_time - s.first_time;
  if (elapsed < 0.5) return "";
  double rate = static_cast<double>(s.last_bytes - s.first_bytes) / elapsed;
  return " " + human_size(rate, 3) + "/s";
}

}  // namespace berth::cli
