// cgroup v1 (cgroupfs): one directory per mounted hierarchy, controllers found in
// /proc/self/mountinfo. cpuset directories are seeded from their parent (an empty cpuset accepts
// no task); memory+swap goes to memory.memsw.limit_in_bytes, refused clearly without swap
// accounting; the freezer pauses.
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "common/sys_util.hpp"
#include "plugin/cgroup_manager.hpp"
#include "plugin/cgroup_util.hpp"

namespace berth::plugins::isolation {
namespace {

namespace json = boost::json;
using namespace cgroup;

struct Hierarchy {
  std::string mount;  // /sys/fs/cgroup/memory
  std::string name;   // "memory", "cpu,cpuacct", "systemd"
  std::set<std::string> controllers;
};

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out.push_back(
          static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<Hierarchy> find_hierarchies() {
  std::vector<Hierarchy> out;
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return out;
  static const std::set<std::string> kKnown = {
      "cpu",   "cpuacct",    "cpuset",   "memory",  "devices", "freezer", "net_cls",
      "blkio", "perf_event", "net_prio", "hugetlb", "pids",    "rdma",    "misc"};
  for (auto line : split(*text, '\n')) {
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto right = split(line.substr(dash + 3), ' ');
    if (right.size() < 3 || right[0] != "cgroup") continue;
    auto left = split(line.substr(0, dash), ' ');
    if (left.size() < 5) continue;
    Hierarchy h;
    h.mount = unescape_mountinfo(left[4]);
    for (auto opt : split(right[2], ',')) {
      if (kKnown.count(std::string(opt)) != 0) h.controllers.insert(std::string(opt));
      if (opt.substr(0, 5) == "name=") h.controllers.insert(std::string(opt));
    }
    if (h.controllers.empty()) continue;
    h.name = h.mount.substr(h.mount.rfind('/') + 1);
    bool duplicate = false;
    for (const auto& other : out) duplicate = duplicate || other.controllers == h.controllers;
    if (!duplicate) out.push_back(std::move(h));
  }
  return out;
}

class CgroupV1 final : public CgroupManager {
 public:
  explicit CgroupV1(std::vector<Hierarchy> hierarchies) : hierarchies_(std::move(hierarchies)) {}

  [[nodiscard]] int version() const override { return 1; }

  sdk::Status create(const std::string& rel, const Resources& resources,
                     std::vector<std::string>& created) override {
    std::vector<std::string> mine;
    for (const auto& h : hierarchies_) {
      const size_t before = mine.size();
      auto s = make_path(h.mount, rel, mine);
      if (s && h.controllers.count("cpuset") != 0) {
        for (size_t i = before; i < mine.size() && s; ++i) s = seed_cpuset(mine[i]);
      }
      if (!s) {
        remove_dirs(mine);
        return s;
      }
    }
    if (auto s = update(rel, resources); !s) {
      remove_dirs(mine);
      return s;
    }
    created.insert(created.end(), mine.begin(), mine.end());
    return {};
  }

  sdk::Status update(const std::string& rel, const Resources& r) override {
    if (r.memory_limit || r.memory_swap || r.memory_reservation || r.memory_swappiness ||
        r.disable_oom_killer) {
      const std::string dir = path_of("memory", rel);
      if (dir.empty()) return missing("memory");
      BERTH_TRY_STATUS(set_memory(dir, r));
      if (r.memory_swappiness) {
        BERTH_TRY_STATUS(write_value(dir, "memory.swappiness", std::to_string(*r.memory_swappiness),
                                     "memory swappiness"));
      }
      if (r.disable_oom_killer) {
        BERTH_TRY_STATUS(write_value(dir, "memory.oom_control", "1", "disable the OOM killer"));
      }
    }
    if (r.cpu_shares || r.cpu_period || r.cpu_quota) {
      const std::string dir = path_of("cpu", rel);
      if (dir.empty()) return missing("cpu");
      if (r.cpu_shares) {
        BERTH_TRY_STATUS(
            write_value(dir, "cpu.shares", std::to_string(*r.cpu_shares), "cpu shares"));
      }
      if (r.cpu_period) {
        BERTH_TRY_STATUS(
            write_value(dir, "cpu.cfs_period_us", std::to_string(*r.cpu_period), "cpu period"));
      }
      if (r.cpu_quota) {
        BERTH_TRY_STATUS(
            write_value(dir, "cpu.cfs_quota_us", std::to_string(*r.cpu_quota), "cpu quota"));
      }
    }
    if (!r.cpus.empty() || !r.mems.empty()) {
      const std::string dir = path_of("cpuset", rel);
      if (dir.empty()) return missing("cpuset");
      if (!r.cpus.empty()) BERTH_TRY_STATUS(write_value(dir, "cpuset.cpus", r.cpus, "cpuset cpus"));
      if (!r.mems.empty()) BERTH_TRY_STATUS(write_value(dir, "cpuset.mems", r.mems, "cpuset mems"));
    }
    if (r.pids_limit) {
      const std::string dir = path_of("pids", rel);
      if (dir.empty()) return missing("pids");
      BERTH_TRY_STATUS(write_value(dir, "pids.max",
                                   *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max",
                                   "pids limit"));
    }
    if (r.blkio_weight) {
      const std::string dir = path_of("blkio", rel);
      if (dir.empty()) return missing("blkio");
      const char* file = has_file(dir, "blkio.weight")       ? "blkio.weight"
                         : has_file(dir, "blkio.bfq.weight") ? "blkio.bfq.weight"
                                                             : nullptr;
      if (file == nullptr) {
        return sdk::make_error(sdk::ErrorCode::kUnsupported,
                               "blkio weight: not supported by this kernel's I/O scheduler");
      }
      BERTH_TRY_STATUS(write_value(dir, file, std::to_string(*r.blkio_weight), "blkio weight"));
    }
    if (!r.devices.empty()) {
      const std::string dir = path_of("devices", rel);
      if (!dir.empty()) {
        for (const auto& d : r.devices) {
          std::string rule(1, d.type);
          rule += " " + (d.major && *d.major >= 0 ? std::to_string(*d.major) : std::string("*"));
          rule += ":" + (d.minor && *d.minor >= 0 ? std::to_string(*d.minor) : std::string("*"));
          rule += " " + d.access;
          BERTH_TRY_STATUS(write_value(dir, d.allow ? "devices.allow" : "devices.deny", rule,
                                       "device rule \"" + rule + "\""));
        }
      }
    }
    return {};
  }

  sdk::Status destroy(const std::string& rel) override {
    // A frozen task cannot die: thaw first so the kills below land.
    if (const std::string dir = path_of("freezer", rel); !dir.empty() && path_exists(dir)) {
      (void)write_existing(dir + "/freezer.state", "THAWED");
    }
    sdk::Status result;
    for (const auto& h : hierarchies_) {
      auto s = remove_cgroup(h.mount + "/" + rel);
      if (!s && result) result = std::move(s);
    }
    return result;
  }

  sdk::Status freeze(const std::string& rel) override {
    const std::string dir = path_of("freezer", rel);
    if (dir.empty()) return missing("freezer");
    for (int attempt = 0; attempt < 500; ++attempt) {
      BERTH_TRY_STATUS(write_value(dir, "freezer.state", "FROZEN", "freeze"));
      auto state = read_file(dir + "/freezer.state");
      if (state && trim(*state) == "FROZEN") return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    (void)write_existing(dir + "/freezer.state", "THAWED");
    return sdk::make_error(sdk::ErrorCode::kDeadlineExceeded, "freeze: the cgroup did not freeze");
  }

  sdk::Status thaw(const std::string& rel) override {
    const std::string dir = path_of("freezer", rel);
    if (dir.empty()) return missing("freezer");
    return write_value(dir, "freezer.state", "THAWED", "thaw");
  }

  sdk::Result<bool> frozen(const std::string& rel) override {
    const std::string dir = path_of("freezer", rel);
    if (dir.empty()) return false;
    auto state = read_file(dir + "/freezer.state");
    if (!state) return std::move(state).error();
    return trim(*state) != "THAWED";
  }

  sdk::Result<std::vector<int>> pids(const std::string& rel) override {
    return read_pids(procs_file(rel));
  }

  sdk::Status kill_all(const std::string& rel, int signal) override {
    // Freezing first means no process can fork its way out of the kill.
    const std::string freezer = path_of("freezer", rel);
    const bool use_freezer = signal == SIGKILL && !freezer.empty();
    bool was_frozen = false;
    if (use_freezer) {
      auto f = frozen(rel);
      was_frozen = f && *f;
      if (!was_frozen) (void)freeze(rel);
    }
    signal_pids(procs_file(rel), signal);
    if (use_freezer) (void)thaw(rel);
    return {};
  }

  sdk::Result<sdk::CgroupStats> stats(const std::string& rel) override {
    sdk::CgroupStats out;
    sdk::CgroupStats::Cpu cpu;
    if (const std::string dir = path_of("cpuacct", rel); !dir.empty()) {
      sdk::CgroupStats::CpuUsage usage;
      usage.total = read_number(dir + "/cpuacct.usage");
      std::vector<uint64_t> percpu;
      if (auto text = read_file(dir + "/cpuacct.usage_percpu")) {
        for (auto v : split(trim(*text), ' ')) percpu.push_back(parse_uint64(v).value_or(0));
      }
      usage.per_cpu = std::move(percpu);
      const long hz = ::sysconf(_SC_CLK_TCK);
      const uint64_t tick = 1000000000ULL / static_cast<uint64_t>(hz > 0 ? hz : 100);
      auto text = read_file(dir + "/cpuacct.stat");
      usage.user = text ? stat_value(*text, "user") * tick : 0;
      usage.kernel = text ? stat_value(*text, "system") * tick : 0;
      cpu.usage = std::move(usage);
    }
    cpu.system = system_cpu_usage();
    cpu.online_cpus = online_cpus();
    if (const std::string dir = path_of("cpu", rel); !dir.empty()) {
      if (auto text = read_file(dir + "/cpu.stat")) {
        cpu.throttling_periods = stat_value(*text, "nr_periods");
        cpu.throttled_periods = stat_value(*text, "nr_throttled");
        cpu.throttled_time = stat_value(*text, "throttled_time");
      }
    }
    out.cpu = std::move(cpu);
    if (const std::string dir = path_of("memory", rel); !dir.empty()) {
      sdk::CgroupStats::Memory memory;
      memory.usage = read_number(dir + "/memory.usage_in_bytes");
      memory.max_usage = read_number(dir + "/memory.max_usage_in_bytes");
      memory.limit = read_number(dir + "/memory.limit_in_bytes");
      memory.failcnt = read_number(dir + "/memory.failcnt");
      if (auto text = read_file(dir + "/memory.stat")) memory.stat = memory_stat(*text);
      out.memory = std::move(memory);
    }
    if (const std::string dir = path_of("pids", rel); !dir.empty()) {
      out.pids = sdk::CgroupStats::Pids{read_number(dir + "/pids.current"),
                                        read_number(dir + "/pids.max", 0)};
    }
    if (const std::string dir = path_of("blkio", rel); !dir.empty()) {
      auto entries = [&](const char* primary, const char* fallback) {
        std::vector<sdk::CgroupStats::BlkioEntry> list;
        auto text = read_file(dir + "/" + primary);
        if (!text || trim(*text).empty() || trim(*text).substr(0, 5) == "Total") {
          text = read_file(dir + "/" + fallback);
        }
        if (!text) return list;
        for (auto line : split(*text, '\n')) {
          auto f = split(line, ' ');
          if (f.size() != 3) continue;
          auto dev = split(f[0], ':');
          if (dev.size() != 2) continue;
          list.push_back({parse_uint64(dev[0]).value_or(0), parse_uint64(dev[1]).value_or(0),
                          std::string(f[1]), parse_uint64(f[2]).value_or(0)});
        }
        return list;
      };
      out.blkio = sdk::CgroupStats::Blkio{
          entries("blkio.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"),
          entries("blkio.io_serviced_recursive", "blkio.throttle.io_serviced_recursive")};
    }
    return out;
  }

  [[nodiscard]] CgroupPlacement placement(const std::string& rel) const override {
    CgroupPlacement p;
    p.version = 1;
    for (const auto& h : hierarchies_) {
      p.procs_files.push_back(h.mount + "/" + rel + "/cgroup.procs");
      p.v1_dirs.emplace_back(h.name, h.mount + "/" + rel);
    }
    return p;
  }

  [[nodiscard]] std::string procs_file(const std::string& rel) const override {
    for (const char* c : {"pids", "memory", "freezer", "cpu"}) {
      std::string dir = path_of(c, rel);
      if (!dir.empty()) return dir + "/cgroup.procs";
    }
    return hierarchies_.front().mount + "/" + rel + "/cgroup.procs";
  }
  [[nodiscard]] std::string kill_file(const std::string& /*rel*/) const override { return ""; }
  [[nodiscard]] std::string oom_file(const std::string& rel) const override {
    std::string dir = path_of("memory", rel);
    return dir.empty() ? "" : dir + "/memory.oom_control";
  }

 private:
  [[nodiscard]] std::string path_of(const std::string& controller, const std::string& rel) const {
    for (const auto& h : hierarchies_) {
      if (h.controllers.count(controller) != 0) return h.mount + "/" + rel;
    }
    return "";
  }

  static sdk::Error missing(const std::string& controller) {
    return sdk::make_error(sdk::ErrorCode::kUnsupported,
                           "the " + controller + " cgroup controller is not mounted");
  }

  // A new cpuset directory starts with no cpus and no memory nodes; the parent's are copied.
  static sdk::Status seed_cpuset(const std::string& dir) {
    const std::string parent = dir.substr(0, dir.rfind('/'));
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      auto mine = read_file(dir + "/" + file);
      if (mine && !trim(*mine).empty()) continue;
      auto theirs = read_file(parent + "/" + file);
      if (!theirs) return std::move(theirs).error().wrap("seed cpuset");
      BERTH_TRY_STATUS(write_value(dir, file, trim(*theirs), "seed cpuset"));
    }
    return {};
  }

  static sdk::Status set_memory(const std::string& dir, const Resources& r) {
    if (r.memory_reservation) {
      BERTH_TRY_STATUS(write_value(dir, "memory.soft_limit_in_bytes",
                                   std::to_string(*r.memory_reservation), "memory reservation"));
    }
    if (r.memory_swap && !has_file(dir, "memory.memsw.limit_in_bytes")) {
      return sdk::make_error(
          sdk::ErrorCode::kUnsupported,
          "memory swap limit: the kernel does not account swap (memory.memsw.limit_in_bytes is "
          "missing; boot with swapaccount=1) or run without a swap limit");
    }
    const std::string limit = r.memory_limit ? std::to_string(*r.memory_limit) : "";
    const std::string swap = r.memory_swap ? std::to_string(*r.memory_swap) : "";
    auto write_limit = [&]() {
      return limit.empty() ? sdk::Status{}
                           : write_value(dir, "memory.limit_in_bytes", limit, "memory limit");
    };
    auto write_swap = [&]() {
      return swap.empty()
                 ? sdk::Status{}
                 : write_value(dir, "memory.memsw.limit_in_bytes", swap, "memory+swap limit");
    };
    // The kernel keeps memory.limit <= memory.memsw.limit at every step: whichever order
    // violates it first fails with EINVAL, and the other order is right.
    if (auto s = write_swap(); s) return write_limit();
    BERTH_TRY_STATUS(write_limit());
    return write_swap();
  }

  std::vector<Hierarchy> hierarchies_;
};

}  // namespace

std::unique_ptr<CgroupManager> make_cgroup_v1() {
  auto hierarchies = find_hierarchies();
  if (hierarchies.empty()) return nullptr;
  return std::make_unique<CgroupV1>(std::move(hierarchies));
}

}  // namespace berth::plugins::isolation
