// JSON shapes of what an isolation backend reports back to the host on its own: task exits
// (host->task_exit) and cgroup metrics (stats). Shapes in abi.h; same leniency as codec.cpp.
#include <boost/json.hpp>

#include "berth/sdk/codec.hpp"
#include "codec_internal.hpp"

namespace berth::sdk::codec {
namespace {

using namespace codec_internal;

json::value exit_value(const TaskExit& e) {
  return json::object{{"id", e.id},
                      {"exec_id", e.exec_id},
                      {"pid", e.pid},
                      {"exit_code", e.exit_code},
                      {"oom_killed", e.oom_killed},
                      {"exited_at_unix_nano", e.exited_at_unix_nano}};
}

TaskExit exit_of(const json::value& v) {
  const auto& o = as_object(v, "task exit");
  TaskExit e;
  e.id = str(o, "id");
  if (e.id.empty()) throw ShapeError("task exit has no id");
  e.exec_id = str(o, "exec_id");
  e.pid = static_cast<int>(i64(o, "pid"));
  e.exit_code = static_cast<int>(i64(o, "exit_code"));
  e.oom_killed = boolean(o, "oom_killed");
  e.exited_at_unix_nano = i64(o, "exited_at_unix_nano");
  return e;
}

json::array u64_array(const std::vector<uint64_t>& list) {
  json::array a;
  for (uint64_t v : list) a.emplace_back(v);
  return a;
}

json::array blkio_value(const std::vector<CgroupStats::BlkioEntry>& list) {
  json::array a;
  for (const auto& e : list) {
    a.push_back(json::object{{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  }
  return a;
}

std::vector<CgroupStats::BlkioEntry> blkio_of(const json::object& o, std::string_view key) {
  std::vector<CgroupStats::BlkioEntry> out;
  const auto* a = o.if_contains(key);
  if (a == nullptr || a->is_null()) return out;
  for (const auto& item : as_array(*a, key)) {
    const auto& e = as_object(item, "blkio entry");
    out.push_back({u64(e, "major"), u64(e, "minor"), str(e, "op"), u64(e, "value")});
  }
  return out;
}

const json::object* group(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return &as_object(*v, key);
}

json::value stats_value(const CgroupStats& s) {
  json::object out;
  if (s.cpu) {
    json::object cpu{{"system", s.cpu->system},
                     {"online_cpus", s.cpu->online_cpus},
                     {"throttling", json::object{{"periods", s.cpu->throttling_periods},
                                                 {"throttled_periods", s.cpu->throttled_periods},
                                                 {"throttled_time", s.cpu->throttled_time}}}};
    if (const auto& u = s.cpu->usage) {
      json::object usage{{"total", u->total}, {"user", u->user}, {"kernel", u->kernel}};
      if (u->per_cpu) usage["per_cpu"] = u64_array(*u->per_cpu);
      cpu["usage"] = std::move(usage);
    }
    out["cpu"] = std::move(cpu);
  }
  if (s.memory) {
    json::array stat;
    for (const auto& [k, v] : s.memory->stat) stat.push_back(json::array{json::value(k), json::value(v)});
    json::object m{{"usage", s.memory->usage}, {"limit", s.memory->limit}, {"stat", std::move(stat)}};
    if (s.memory->max_usage) m["max_usage"] = *s.memory->max_usage;
    if (s.memory->failcnt) m["failcnt"] = *s.memory->failcnt;
    out["memory"] = std::move(m);
  }
  if (s.pids) out["pids"] = json::object{{"current", s.pids->current}, {"limit", s.pids->limit}};
  if (s.blkio) {
    out["blkio"] = json::object{{"service_bytes", blkio_value(s.blkio->service_bytes)},
                                {"serviced", blkio_value(s.blkio->serviced)}};
  }
  if (!s.networks.empty()) {
    json::array nets;
    for (const auto& n : s.networks) {
      nets.push_back(json::object{{"name", n.name},
                                  {"rx_bytes", n.rx_bytes},
                                  {"rx_packets", n.rx_packets},
                                  {"rx_errors", n.rx_errors},
                                  {"rx_dropped", n.rx_dropped},
                                  {"tx_bytes", n.tx_bytes},
                                  {"tx_packets", n.tx_packets},
                                  {"tx_errors", n.tx_errors},
                                  {"tx_dropped", n.tx_dropped}});
    }
    out["networks"] = std::move(nets);
  }
  return out;
}

CgroupStats stats_of(const json::value& v) {
  const auto& o = as_object(v, "cgroup stats");
  CgroupStats s;
  if (const auto* c = group(o, "cpu")) {
    CgroupStats::Cpu cpu;
    cpu.system = u64(*c, "system");
    cpu.online_cpus = u64(*c, "online_cpus");
    if (const auto* t = group(*c, "throttling")) {
      cpu.throttling_periods = u64(*t, "periods");
      cpu.throttled_periods = u64(*t, "throttled_periods");
      cpu.throttled_time = u64(*t, "throttled_time");
    }
    if (const auto* u = group(*c, "usage")) {
      CgroupStats::CpuUsage usage{u64(*u, "total"), u64(*u, "user"), u64(*u, "kernel"), std::nullopt};
      if (const auto* per = u->if_contains("per_cpu"); per != nullptr && !per->is_null()) {
        std::vector<uint64_t> list;
        for (const auto& x : as_array(*per, "per_cpu")) {
          if (!x.is_number()) throw ShapeError("per_cpu must hold numbers");
          list.push_back(x.to_number<uint64_t>());
        }
        usage.per_cpu = std::move(list);
      }
      cpu.usage = std::move(usage);
    }
    s.cpu = std::move(cpu);
  }
  if (const auto* m = group(o, "memory")) {
    CgroupStats::Memory mem;
    mem.usage = u64(*m, "usage");
    mem.limit = u64(*m, "limit");
    if (m->contains("max_usage")) mem.max_usage = u64(*m, "max_usage");
    if (m->contains("failcnt")) mem.failcnt = u64(*m, "failcnt");
    if (const auto* st = m->if_contains("stat"); st != nullptr && !st->is_null()) {
      for (const auto& pair : as_array(*st, "memory stat")) {
        const auto& kv = as_array(pair, "memory stat entry");
        if (kv.size() != 2 || !kv[0].is_string() || !kv[1].is_number()) {
          throw ShapeError("memory stat entries must be [name, number] pairs");
        }
        mem.stat.emplace_back(std::string(kv[0].get_string()), kv[1].to_number<uint64_t>());
      }
    }
    s.memory = std::move(mem);
  }
  if (const auto* p = group(o, "pids")) s.pids = CgroupStats::Pids{u64(*p, "current"), u64(*p, "limit")};
  if (const auto* b = group(o, "blkio")) {
    s.blkio = CgroupStats::Blkio{blkio_of(*b, "service_bytes"), blkio_of(*b, "serviced")};
  }
  if (const auto* nets = o.if_contains("networks"); nets != nullptr && !nets->is_null()) {
    for (const auto& item : as_array(*nets, "networks")) {
      const auto& n = as_object(item, "network");
      s.networks.push_back({str(n, "name"), u64(n, "rx_bytes"), u64(n, "rx_packets"),
                            u64(n, "rx_errors"), u64(n, "rx_dropped"), u64(n, "tx_bytes"),
                            u64(n, "tx_packets"), u64(n, "tx_errors"), u64(n, "tx_dropped")});
    }
  }
  return s;
}

}  // namespace

template <>
std::string to_json<TaskExit>(const TaskExit& value) {
  return json::serialize(exit_value(value));
}
template <>
Result<TaskExit> from_json<TaskExit>(std::string_view text) {
  return decode_with<TaskExit>(text, exit_of);
}
template <>
std::string to_json<CgroupStats>(const CgroupStats& value) {
  return json::serialize(stats_value(value));
}
template <>
Result<CgroupStats> from_json<CgroupStats>(std::string_view text) {
  return decode_with<CgroupStats>(text, stats_of);
}

}  // namespace berth::sdk::codec
