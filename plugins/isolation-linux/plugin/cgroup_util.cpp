#include "plugin/cgroup_util.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation::cgroup {

sdk::Status make_path(const std::string& base, const std::string& rel,
                      std::vector<std::string>& created) {
  std::string path = base;
  auto parts = split(rel, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    path += "/";
    path += parts[i];
    const bool last = i + 1 == parts.size();
    if (::mkdir(path.c_str(), 0755) == 0) {
      created.push_back(path);
      continue;
    }
    if (errno == EEXIST && !last) continue;
    if (errno == EEXIST) {
      return sdk::make_error(sdk::ErrorCode::kAlreadyExists, "cgroup " + path + " already exists");
    }
    return sdk::errno_error("create cgroup " + path);
  }
  return {};
}

void remove_dirs(const std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
}

sdk::Status write_value(const std::string& dir, const std::string& file, std::string_view value,
                        const std::string& what) {
  if (auto s = write_existing(dir + "/" + file, value); !s) return std::move(s).error().wrap(what);
  return {};
}

bool has_file(const std::string& dir, const std::string& file) {
  return ::access((dir + "/" + file).c_str(), F_OK) == 0;
}

sdk::Result<std::vector<int>> read_pids(const std::string& procs_file) {
  auto text = read_file(procs_file);
  if (!text) return std::move(text).error();
  std::vector<int> pids;
  for (auto line : split(*text, '\n')) {
    if (auto pid = parse_int64(line)) pids.push_back(static_cast<int>(*pid));
  }
  return pids;
}

void signal_pids(const std::string& procs_file, int signal) {
  for (int pass = 0; pass < 2; ++pass) {
    auto pids = read_pids(procs_file);
    if (!pids) return;
    for (int pid : *pids) ::kill(pid, signal);
  }
}

sdk::Status remove_cgroup(const std::string& dir) {
  for (int attempt = 0; attempt < 150; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY && errno != ENOTEMPTY) return sdk::errno_error("remove cgroup " + dir);
    signal_pids(dir + "/cgroup.procs", SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return sdk::errno_error("remove cgroup " + dir, EBUSY);
}

uint64_t stat_value(std::string_view text, std::string_view key) {
  auto v = find_key(text, key, ' ');
  if (!v) return 0;
  return parse_uint64(*v).value_or(0);
}

std::vector<std::pair<std::string, uint64_t>> memory_stat(std::string_view text) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (auto line : split(text, '\n')) {
    auto kv = split(line, ' ');
    if (kv.size() == 2) out.emplace_back(std::string(kv[0]), parse_uint64(kv[1]).value_or(0));
  }
  return out;
}

uint64_t read_number(const std::string& path, uint64_t max_value) {
  auto text = read_file(path);
  if (!text) return 0;
  auto t = trim(*text);
  if (t == "max") return max_value;
  return parse_uint64(t).value_or(0);
}

uint64_t system_cpu_usage() {
  auto text = read_file("/proc/stat");
  if (!text) return 0;
  auto line = split(*text, '\n');
  if (line.empty()) return 0;
  auto fields = split(line[0], ' ');
  if (fields.empty() || fields[0] != "cpu") return 0;
  uint64_t ticks = 0;
  // user nice system idle iowait irq softirq, as Docker sums them.
  for (size_t i = 1; i < fields.size() && i <= 7; ++i) ticks += parse_uint64(fields[i]).value_or(0);
  const long hz = ::sysconf(_SC_CLK_TCK);
  return ticks * (1000000000ULL / static_cast<uint64_t>(hz > 0 ? hz : 100));
}

uint64_t online_cpus() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<uint64_t>(n) : 1;
}

uint64_t host_memory_total() {
  auto text = read_file("/proc/meminfo");
  if (!text) return 0;
  auto v = find_key(*text, "MemTotal", ':');
  if (!v) return 0;
  auto kb = split(*v, ' ');
  return kb.empty() ? 0 : parse_uint64(kb[0]).value_or(0) * 1024;
}

}  // namespace berth::plugins::isolation::cgroup
