#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

namespace berth::cli {

// What docker's stats view derives from one /containers/{id}/stats object (Linux rules).
struct StatsEntry {
  std::string id, name;
  double cpu_percent = 0, memory = 0, memory_limit = 0, memory_percent = 0;
  double net_rx = 0, net_tx = 0, block_read = 0, block_write = 0;
  uint64_t pids = 0;
  bool valid = false;
};

StatsEntry compute_stats(const boost::json::value& stats);
boost::json::object stats_row(const StatsEntry& e, const std::string& container, bool trunc);

}  // namespace berth::cli
