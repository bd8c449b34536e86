// cgroup v2 (unified): one directory per task, placed by cgroup_v2_layout (at the top of the
// hierarchy, or under berthd's own delegated cgroup). Controllers are enabled along the task's
// chain by cgroup_v2_setup (every offered one in parents this backend created, the wanted ones
// above); a limit whose controller cannot be had is refused naming where and the fix;
// OCI's v1-shaped resources are converted the way runc converts them (shares -> cpu.weight,
// memory+swap -> memory.swap.max, blkio weight -> io.weight); cgroup.freeze pauses.
#include <signal.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "common/sys_util.hpp"
#include "plugin/cgroup_manager.hpp"
#include "plugin/cgroup_util.hpp"
#include "plugin/cgroup_v2_devices.hpp"
#include "plugin/cgroup_v2_setup.hpp"

namespace berth::plugins::isolation {
namespace {

namespace json = boost::json;
using namespace cgroup;

class CgroupV2 final : public CgroupManager {
 public:
  CgroupV2(std::string top, cgroup_v2::Layout layout)
      : top_(std::move(top)),
        layout_(std::move(layout)),
        root_(layout_.base.empty() ? top_ : top_ + "/" + layout_.base) {}

  [[nodiscard]] int version() const override { return 2; }

  sdk::Status create(const std::string& rel, const Resources& resources,
                     std::vector<std::string>& created) override {
    std::vector<std::string> mine;
    if (auto s = make_path(root_, rel, mine); !s) {
      remove_dirs(mine);
      return s;
    }
    // Hand controllers down the chain so the task's directory gets them.
    std::vector<std::string> parents(mine.begin(), mine.end());
    std::erase(parents, dir_of(rel));
    cgroup_v2::enable_chain(top_, layout_, rel, parents);
    if (auto s = update(rel, resources); !s) {
      remove_dirs(mine);
      return s;
    }
    created.insert(created.end(), mine.begin(), mine.end());
    return {};
  }

  sdk::Status update(const std::string& rel, const Resources& r) override {
    const std::string dir = dir_of(rel);
    if (r.memory_limit || r.memory_swap || r.memory_reservation) {
      BERTH_TRY_STATUS(need("memory", rel, "memory.max"));
      if (r.memory_reservation) {
        BERTH_TRY_STATUS(write_value(dir, "memory.low", std::to_string(*r.memory_reservation),
                                     "memory reservation"));
      }
      if (r.memory_limit) {
        BERTH_TRY_STATUS(write_value(dir, "memory.max",
                                     *r.memory_limit < 0 ? "max" : std::to_string(*r.memory_limit),
                                     "memory limit"));
      }
      if (r.memory_swap) {
        if (!has_file(dir, "memory.swap.max")) {
          return sdk::make_error(sdk::ErrorCode::kUnsupported,
                                 "memory swap limit: swap accounting is off (memory.swap.max is "
                                 "missing); run without a swap limit");
        }
        std::string value = "max";
        if (*r.memory_swap >= 0) {
          int64_t limit = r.memory_limit.value_or(0);
          if (limit <= 0) {
            return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                                   "memory swap limit needs a memory limit");
          }
          value = std::to_string(*r.memory_swap - limit);
        }
        BERTH_TRY_STATUS(write_value(dir, "memory.swap.max", value, "memory+swap limit"));
      }
    }
    if (r.cpu_shares || r.cpu_quota || r.cpu_period) {
      BERTH_TRY_STATUS(need("cpu", rel, "cpu.max"));
      if (r.cpu_shares) {
        uint64_t shares = std::max<uint64_t>(2, std::min<uint64_t>(*r.cpu_shares, 262144));
        uint64_t weight = 1 + ((shares - 2) * 9999) / 262142;
        BERTH_TRY_STATUS(write_value(dir, "cpu.weight", std::to_string(weight), "cpu shares"));
      }
      if (r.cpu_quota || r.cpu_period) {
        std::string quota = r.cpu_quota && *r.cpu_quota > 0 ? std::to_string(*r.cpu_quota) : "max";
        std::string value = quota + " " + std::to_string(r.cpu_period.value_or(100000));
        BERTH_TRY_STATUS(write_value(dir, "cpu.max", value, "cpu quota"));
      }
    }
    if (!r.cpus.empty() || !r.mems.empty()) {
      BERTH_TRY_STATUS(need("cpuset", rel, "cpuset.cpus"));
      if (!r.cpus.empty()) BERTH_TRY_STATUS(write_value(dir, "cpuset.cpus", r.cpus, "cpuset cpus"));
      if (!r.mems.empty()) BERTH_TRY_STATUS(write_value(dir, "cpuset.mems", r.mems, "cpuset mems"));
    }
    if (r.pids_limit) {
      BERTH_TRY_STATUS(need("pids", rel, "pids.max"));
      BERTH_TRY_STATUS(write_value(dir, "pids.max",
                                   *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max",
                                   "pids limit"));
    }
    if (r.blkio_weight) {
      if (has_file(dir, "io.bfq.weight")) {
        BERTH_TRY_STATUS(
            write_value(dir, "io.bfq.weight", std::to_string(*r.blkio_weight), "blkio weight"));
      } else {
        BERTH_TRY_STATUS(need("io", rel, "io.weight"));
        uint64_t weight = 1 + (static_cast<uint64_t>(*r.blkio_weight) - 10) * 9999 / 990;
        BERTH_TRY_STATUS(
            write_value(dir, "io.weight", "default " + std::to_string(weight), "blkio weight"));
      }
    }
    // memory.swappiness and disableOOMKiller have no v2 equivalent (runc ignores them too).
    // linux.resources.devices: an eBPF device program on v2 (cgroup_v2_devices).
    if (!r.devices.empty()) BERTH_TRY_STATUS(cgroup_v2::apply_device_filter(dir, r.devices));
    return {};
  }

  sdk::Status destroy(const std::string& rel) override {
    const std::string dir = dir_of(rel);
    if (has_file(dir, "cgroup.freeze")) (void)write_existing(dir + "/cgroup.freeze", "0");
    if (has_file(dir, "cgroup.kill")) (void)write_existing(dir + "/cgroup.kill", "1");
    return remove_cgroup(dir);
  }

  sdk::Status freeze(const std::string& rel) override { return set_frozen(rel, true); }
  sdk::Status thaw(const std::string& rel) override { return set_frozen(rel, false); }

  sdk::Result<bool> frozen(const std::string& rel) override {
    auto text = read_file(dir_of(rel) + "/cgroup.freeze");
    if (!text) return std::move(text).error();
    return trim(*text) == "1";
  }

  sdk::Result<std::vector<int>> pids(const std::string& rel) override {
    return read_pids(procs_file(rel));
  }

  sdk::Status kill_all(const std::string& rel, int signal) override {
    const std::string dir = dir_of(rel);
    if (signal == SIGKILL && has_file(dir, "cgroup.kill")) {
      return write_value(dir, "cgroup.kill", "1", "kill cgroup");
    }
    signal_pids(dir + "/cgroup.procs", signal);
    return {};
  }

  sdk::Result<sdk::CgroupStats> stats(const std::string& rel) override {
    const std::string dir = dir_of(rel);
    sdk::CgroupStats out;
    sdk::CgroupStats::Cpu cpu;
    if (auto text = read_file(dir + "/cpu.stat")) {
      cpu.usage = sdk::CgroupStats::CpuUsage{stat_value(*text, "usage_usec") * 1000,
                                             stat_value(*text, "user_usec") * 1000,
                                             stat_value(*text, "system_usec") * 1000, std::nullopt};
      cpu.throttling_periods = stat_value(*text, "nr_periods");
      cpu.throttled_periods = stat_value(*text, "nr_throttled");
      cpu.throttled_time = stat_value(*text, "throttled_usec") * 1000;
    }
    cpu.system = system_cpu_usage();
    cpu.online_cpus = online_cpus();
    out.cpu = std::move(cpu);
    if (has_file(dir, "memory.current")) {
      sdk::CgroupStats::Memory memory;
      memory.usage = read_number(dir + "/memory.current");
      if (has_file(dir, "memory.peak")) memory.max_usage = read_number(dir + "/memory.peak");
      memory.limit = read_number(dir + "/memory.max", host_memory_total());
      if (auto text = read_file(dir + "/memory.stat")) memory.stat = memory_stat(*text);
      out.memory = std::move(memory);
    }
    if (has_file(dir, "pids.current")) {
      out.pids = sdk::CgroupStats::Pids{read_number(dir + "/pids.current"),
                                        read_number(dir + "/pids.max", 0)};
    }
    sdk::CgroupStats::Blkio blkio;
    if (auto text = read_file(dir + "/io.stat")) {
      for (auto line : split(*text, '\n')) {
        auto fields = split(line, ' ');
        if (fields.empty()) continue;
        auto dev = split(fields[0], ':');
        if (dev.size() != 2) continue;
        const uint64_t major = parse_uint64(dev[0]).value_or(0);
        const uint64_t minor = parse_uint64(dev[1]).value_or(0);
        for (size_t i = 1; i < fields.size(); ++i) {
          auto kv = split(fields[i], '=');
          if (kv.size() != 2) continue;
          const uint64_t value = parse_uint64(kv[1]).value_or(0);
          if (kv[0] == "rbytes") blkio.service_bytes.push_back({major, minor, "read", value});
          if (kv[0] == "wbytes") blkio.service_bytes.push_back({major, minor, "write", value});
          if (kv[0] == "rios") blkio.serviced.push_back({major, minor, "read", value});
          if (kv[0] == "wios") blkio.serviced.push_back({major, minor, "write", value});
        }
      }
    }
    out.blkio = std::move(blkio);
    return out;
  }

  [[nodiscard]] CgroupPlacement placement(const std::string& rel) const override {
    CgroupPlacement p;
    p.version = 2;
    p.procs_files.push_back(procs_file(rel));
    p.v2_dir = dir_of(rel);
    return p;
  }
  [[nodiscard]] std::string procs_file(const std::string& rel) const override {
    return dir_of(rel) + "/cgroup.procs";
  }
  [[nodiscard]] std::string kill_file(const std::string& rel) const override {
    return has_file(dir_of(rel), "cgroup.kill") ? dir_of(rel) + "/cgroup.kill" : "";
  }
  [[nodiscard]] std::string oom_file(const std::string& rel) const override {
    return has_file(dir_of(rel), "memory.events") ? dir_of(rel) + "/memory.events" : "";
  }

 private:
  [[nodiscard]] std::string dir_of(const std::string& rel) const { return root_ + "/" + rel; }

  // The controller's interface file is there, or the chain is walked once more (a host that
  // gained the controller since, a parent made by another berthd); else the refusal names where
  // it stopped and the fix.
  sdk::Status need(const std::string& controller, const std::string& rel, const char* file) {
    if (has_file(dir_of(rel), file)) return {};
    auto why = cgroup_v2::ensure_controller(top_, layout_, rel, controller);
    if (why.empty() && has_file(dir_of(rel), file)) return {};
    if (why.empty()) why = "the " + controller + " controller is not available in " + dir_of(rel);
    return sdk::make_error(sdk::ErrorCode::kUnsupported, why);
  }

  sdk::Status set_frozen(const std::string& rel, bool frozen) {
    const std::string dir = dir_of(rel);
    BERTH_TRY_STATUS(
        write_value(dir, "cgroup.freeze", frozen ? "1" : "0", frozen ? "freeze" : "thaw"));
    for (int attempt = 0; attempt < 1000; ++attempt) {
      auto events = read_file(dir + "/cgroup.events");
      if (!events) return std::move(events).error();
      if (stat_value(*events, "frozen") == (frozen ? 1U : 0U)) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return sdk::make_error(
        sdk::ErrorCode::kDeadlineExceeded,
        frozen ? "freeze: the cgroup did not freeze" : "thaw: the cgroup did not thaw");
  }

  std::string top_;
  cgroup_v2::Layout layout_;
  std::string root_;  // where task paths start: top_ or top_/<delegated base>
};

}  // namespace

std::unique_ptr<CgroupManager> make_cgroup_v1();

sdk::Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& v2_root,
                                                                 std::string_view v2_layout,
                                                                 std::vector<std::string>& notes) {
  auto mode = cgroup_v2::parse_layout_mode(v2_layout);
  if (!mode) return std::move(mode).error();
  constexpr long kCgroup2Magic = 0x63677270;
  std::string root = v2_root;
  if (root.empty()) {
    struct statfs fs {};
    if (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == kCgroup2Magic) {
      root = "/sys/fs/cgroup";
    }
  } else {
    struct statfs fs {};
    if (::statfs(root.c_str(), &fs) != 0 || fs.f_type != kCgroup2Magic) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "cgroup-v2-root: " + root + " is not a cgroup2 mount");
    }
  }
  if (!root.empty()) {
    auto layout = cgroup_v2::prepare(root, *mode, notes);
    if (!layout) return std::move(layout).error().wrap("cgroup v2 at " + root);
    return std::unique_ptr<CgroupManager>(std::make_unique<CgroupV2>(root, std::move(*layout)));
  }
  auto v1 = make_cgroup_v1();
  if (!v1) {
    return sdk::make_error(sdk::ErrorCode::kUnsupported,
                           "no cgroup hierarchy is mounted under /sys/fs/cgroup");
  }
  return v1;
}

bool remove_cgroup_dir_if_empty(const std::string& dir) {
  return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

}  // namespace berth::plugins::isolation
