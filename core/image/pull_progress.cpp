#include "core/image/pull_progress.hpp"

#include <cstdio>

namespace json = boost::json;

namespace berth::core::image {

std::string human_size(int64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double size = static_cast<double>(bytes);
  int unit = 0;
  while (size >= 1000.0 && unit < 5) {
    size /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%s", size, kUnits[unit]);
  return buf;
}

std::string progress_bar(int64_t current, int64_t total) {
  if (total <= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%8s", human_size(current).c_str());
    return buf;
  }
  int64_t percent = current * 100 / total / 2;  // 50 characters wide
  if (percent > 50) percent = 50;
  if (percent < 0) percent = 0;
  std::string bar = "[" + std::string(static_cast<size_t>(percent), '=') + ">" +
                    std::string(static_cast<size_t>(50 - percent), ' ') + "] ";
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, "%8s/%s", human_size(current).c_str(),
                human_size(total).c_str());
  return bar + numbers;
}

json::object layer_status(std::string_view status, std::string_view id) {
  return json::object{{"status", status}, {"progressDetail", json::object{}}, {"id", id}};
}

json::object layer_progress(std::string_view status, std::string_view id, int64_t current,
                            int64_t total) {
  return json::object{{"status", status},
                      {"progressDetail", json::object{{"current", current}, {"total", total}}},
                      {"progress", progress_bar(current, total)},
                      {"id", id}};
}

std::string short_layer_id(std::string_view digest) {
  auto colon = digest.find(':');
  std::string_view hex = colon == std::string_view::npos ? digest : digest.substr(colon + 1);
  return std::string(hex.substr(0, 12));
}

}  // namespace berth::core::image
