// Resource limits as the kernel sees them, read from the container's own cgroup on the host side
// (cgroup v1 on the CI host, v2 inside the VM suite: tests/vm/guest-suite.sh): set at run, changed
// by `update` on a running container, and on v2 the controllers berthd enabled along its path.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <fstream>
#include <sstream>

#include "tests/support/container_fixture.hpp"

using namespace berth::testing;

namespace {

using CgroupLimits = ContainerTest;

bool unified_host() {
  struct statfs fs {};
  return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

std::string read_trimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string out = s.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// The container's cgroup directory for `controller` (v1) or its one directory (v2), from the
// kernel's own record of the process: /proc/<pid>/cgroup.
std::string cgroup_dir(const std::string& pid, const std::string& controller) {
  std::ifstream in("/proc/" + pid + "/cgroup");
  std::string line;
  const bool v2 = unified_host();
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (v2 && line.rfind("0::", 0) == 0) return "/sys/fs/cgroup" + path;
    if (!v2) {
      std::stringstream names(controllers);
      std::string name;
      while (std::getline(names, name, ',')) {
        if (name == controller) return "/sys/fs/cgroup/" + controllers + path;
      }
    }
  }
  return "";
}

struct Limits {
  std::string memory, pids, cpu;
};

Limits kernel_limits(const std::string& pid) {
  Limits l;
  if (unified_host()) {
    const auto dir = cgroup_dir(pid, "");
    l.memory = read_trimmed(dir + "/memory.max");
    l.pids = read_trimmed(dir + "/pids.max");
    l.cpu = read_trimmed(dir + "/cpu.max");
  } else {
    l.memory = read_trimmed(cgroup_dir(pid, "memory") + "/memory.limit_in_bytes");
    l.pids = read_trimmed(cgroup_dir(pid, "pids") + "/pids.max");
    const auto cpu = cgroup_dir(pid, "cpu");
    l.cpu = read_trimmed(cpu + "/cpu.cfs_quota_us") + " " + read_trimmed(cpu + "/cpu.cfs_period_us");
  }
  return l;
}

TEST_F(CgroupLimits, UpdateChangesTheLimitsOfARunningContainer) {
  ok({"run", "-d", "--name", "lim", "--memory", "64m", "--memory-swap", "64m", "--pids-limit", "50",
      "--cpus", "0.5", "busybox:local", "sleep", "1000"});
  const auto pid = inspect("lim", "{{.State.Pid}}");
  ASSERT_NE(pid, "0");
  auto before = kernel_limits(pid);
  EXPECT_EQ(before.memory, "67108864");
  EXPECT_EQ(before.pids, "50");
  EXPECT_EQ(before.cpu, "50000 100000");

  ok({"update", "--memory", "96m", "--memory-swap", "96m", "--pids-limit", "30", "--cpus", "1", "lim"});
  EXPECT_EQ(inspect("lim", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}}"),
            "100663296 30 1000000000");
  auto after = kernel_limits(pid);
  EXPECT_EQ(after.memory, "100663296");
  EXPECT_EQ(after.pids, "30");
  EXPECT_EQ(after.cpu, "100000 100000");
  EXPECT_EQ(inspect("lim", "{{.State.Status}}"), "running");

  // A lower memory limit than the container uses now is the kernel's business; a bad value is
  // refused before anything changes.
  auto bad = berth({"update", "--pids-limit", "20", "--memory", "1k", "lim"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(kernel_limits(pid).pids, "30") << bad.err;
}

TEST_F(CgroupLimits, ControllersAreEnabledAlongBerthdsPathOnV2) {
  if (!unified_host()) GTEST_SKIP() << "cgroup v1 host: the VM suite runs this on v2";
  // Whatever the root enabled before (systemd's cpu io memory pids, or nothing on a bare host),
  // berthd hands down what a limit needs, cpuset included (systemd does not enable it).
  ok({"run", "-d", "--name", "cs", "--memory", "32m", "--pids-limit", "20", "--cpus", "0.5",
      "--cpuset-cpus", "0", "busybox:local", "sleep", "1000"});
  const auto pid = inspect("cs", "{{.State.Pid}}");
  const auto dir = cgroup_dir(pid, "");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(read_trimmed(dir + "/cpuset.cpus"), "0");
  const auto parent = dir.substr(0, dir.rfind('/'));
  const auto enabled = read_trimmed(parent + "/cgroup.subtree_control");
  for (const char* c : {"cpu", "memory", "pids", "cpuset"}) {
    EXPECT_NE((" " + enabled + " ").find(std::string(" ") + c + " "), std::string::npos)
        << c << " not in " << parent << "/cgroup.subtree_control: " << enabled;
  }
  ok({"update", "--cpuset-cpus", "0-1", "cs"});
  EXPECT_EQ(read_trimmed(dir + "/cpuset.cpus"), "0-1");
}

}  // namespace
