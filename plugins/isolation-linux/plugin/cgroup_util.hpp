// Helpers shared by the v1 and v2 cgroup managers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/sdk/result.hpp"

namespace berth::plugins::isolation::cgroup {

// Creates every missing directory of `base`/`rel`; each one created is appended to `created`.
// The last component must not exist yet (kAlreadyExists).
sdk::Status make_path(const std::string& base, const std::string& rel,
                      std::vector<std::string>& created);
// rmdir in reverse creation order, ignoring what is gone.
void remove_dirs(const std::vector<std::string>& created);

// Writes `value` to <dir>/<file>; errors read "<what>: write <path>: <errno text>".
sdk::Status write_value(const std::string& dir, const std::string& file, std::string_view value,
                        const std::string& what);
bool has_file(const std::string& dir, const std::string& file);

sdk::Result<std::vector<int>> read_pids(const std::string& procs_file);
// Signals every process in `procs_file`, twice over (a process forking meanwhile is caught by
// the second pass).
void signal_pids(const std::string& procs_file, int signal);
// rmdir `dir`; while busy, SIGKILLs what is left in it and retries for a few seconds.
sdk::Status remove_cgroup(const std::string& dir);

// "key value" lines (memory.stat, cpu.stat, memory.events) -> number, 0 when absent.
uint64_t stat_value(std::string_view text, std::string_view key);
// memory.stat's "key value" lines, in file order.
std::vector<std::pair<std::string, uint64_t>> memory_stat(std::string_view text);
// A whole file holding one number ("max" -> `max_value`); 0 when unreadable.
uint64_t read_number(const std::string& path, uint64_t max_value = 0);

// Docker's system_cpu_usage: the host's busy+idle time in nanoseconds from /proc/stat.
uint64_t system_cpu_usage();
uint64_t online_cpus();
uint64_t host_memory_total();

}  // namespace berth::plugins::isolation::cgroup
