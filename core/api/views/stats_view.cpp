#include "core/api/views/stats_view.hpp"

#include <boost/json.hpp>

#include "core/common/time.hpp"

namespace berth::core::api::views {
namespace json = boost::json;

namespace {

json::object cpu_json(const sdk::CgroupStats::Cpu& cpu) {
  json::object usage;
  if (cpu.usage) {
    usage["total_usage"] = cpu.usage->total;
    if (cpu.usage->per_cpu) {
      json::array per;
      for (uint64_t v : *cpu.usage->per_cpu) per.emplace_back(v);
      usage["percpu_usage"] = std::move(per);
    }
    usage["usage_in_usermode"] = cpu.usage->user;
    usage["usage_in_kernelmode"] = cpu.usage->kernel;
  }
  return json::object{{"cpu_usage", std::move(usage)},
                      {"system_cpu_usage", cpu.system},
                      {"online_cpus", cpu.online_cpus},
                      {"throttling_data", json::object{{"periods", cpu.throttling_periods},
                                                       {"throttled_periods", cpu.throttled_periods},
                                                       {"throttled_time", cpu.throttled_time}}}};
}

json::object memory_json(const sdk::CgroupStats::Memory& memory, int64_t host_memory) {
  json::object out;
  out["usage"] = memory.usage;
  if (memory.max_usage) out["max_usage"] = *memory.max_usage;
  if (host_memory > 0 && memory.limit > static_cast<uint64_t>(host_memory)) {
    out["limit"] = host_memory;
  } else {
    out["limit"] = memory.limit;
  }
  if (memory.failcnt) out["failcnt"] = *memory.failcnt;
  json::object stat;
  for (const auto& [key, value] : memory.stat) stat[key] = value;
  out["stats"] = std::move(stat);
  return out;
}

json::array blkio_json(const std::vector<sdk::CgroupStats::BlkioEntry>& entries) {
  json::array out;
  for (const auto& e : entries) {
    out.push_back(json::object{{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  }
  return out;
}

}  // namespace

json::object stats_json(const container::StatsSample& sample, int64_t host_memory) {
  json::object out;
  const auto& m = sample.metrics;
  if (m && m->cpu) {
    out["cpu_stats"] = cpu_json(*m->cpu);
  } else {
    out["cpu_stats"] = json::object{{"cpu_usage", json::object{{"total_usage", 0}}}};
  }
  out["memory_stats"] = m && m->memory ? memory_json(*m->memory, host_memory) : json::object();
  out["pids_stats"] = m && m->pids ? json::object{{"current", m->pids->current}, {"limit", m->pids->limit}}
                                   : json::object();
  out["blkio_stats"] = m && m->blkio ? json::object{{"io_service_bytes_recursive", blkio_json(m->blkio->service_bytes)},
                                                    {"io_serviced_recursive", blkio_json(m->blkio->serviced)}}
                                     : json::object();
  if (m && !m->networks.empty()) {
    json::object nets;
    for (const auto& n : m->networks) {
      nets[n.name] = json::object{{"rx_bytes", n.rx_bytes},   {"rx_packets", n.rx_packets},
                                  {"rx_errors", n.rx_errors}, {"rx_dropped", n.rx_dropped},
                                  {"tx_bytes", n.tx_bytes},   {"tx_packets", n.tx_packets},
                                  {"tx_errors", n.tx_errors}, {"tx_dropped", n.tx_dropped}};
    }
    out["networks"] = std::move(nets);
  }
  out["read"] = rfc3339_nano(sample.read_unix_nano);
  out["name"] = sample.name;
  out["id"] = sample.id;
  out["num_procs"] = 0;
  out["storage_stats"] = json::object();
  return out;
}

}  // namespace berth::core::api::views
