#include "isolation_harness.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "berth/sdk/mount.hpp"

namespace berth::sdk::testing::isolation_suite {
namespace {

namespace json = boost::json;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json::array strings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

const std::vector<std::string> kDefaultCaps = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

json::object mount(const char* destination, const char* type, const char* source,
                   const std::vector<std::string>& options) {
  return json::object{{"destination", destination},
                      {"type", type},
                      {"source", source},
                      {"options", strings(options)}};
}

// The cgroup directories of `pid` on this host: one per hierarchy line of /proc/<pid>/cgroup,
// under the cgroup filesystem mounted for its controllers. Read from the host's cgroup namespace,
// so the paths are absolute.
std::vector<std::string> cgroup_dirs_of(int pid) {
  struct CgroupMount {
    bool v2 = false;
    std::set<std::string> options;
    std::string point;
  };
  std::vector<CgroupMount> mounts;
  std::istringstream info(read_text("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(info, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream right(line.substr(dash + 3));
    std::string type, source, super;
    right >> type >> source >> super;
    if (type != "cgroup" && type != "cgroup2") continue;
    std::istringstream left(line.substr(0, dash));
    std::string f[5];
    for (auto& x : f) left >> x;
    if (f[3] != "/") continue;  // a bind of a sub-tree: not where the host's paths start
    CgroupMount m{type == "cgroup2", {}, f[4]};
    std::istringstream opts(super);
    std::string opt;
    while (std::getline(opts, opt, ',')) m.options.insert(opt);
    mounts.push_back(std::move(m));
  }
  std::vector<std::string> out;
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (path == "/" || path.empty()) continue;
    for (const auto& m : mounts) {
      bool match = controllers.empty() ? m.v2 : !m.v2;
      std::istringstream names(controllers);
      std::string name;
      while (match && std::getline(names, name, ',')) match = m.options.contains(name);
      if (match) out.push_back(m.point + path);
    }
  }
  return out;
}

bool process_alive(int pid) {
  if (::kill(pid, 0) != 0) return false;
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

}  // namespace

// ---- exits ------------------------------------------------------------------------------------

void ExitLog::task_exited(const TaskExit& exit) noexcept {
  try {
    std::lock_guard lock(mu_);
    exits_.push_back(exit);
  } catch (...) {
    return;
  }
  cv_.notify_all();
}

std::optional<TaskExit> ExitLog::wait(const std::string& id, const std::string& exec_id,
                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<TaskExit> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& e : exits_) {
      if (e.id == id && e.exec_id == exec_id) {
        found = e;
        return true;
      }
    }
    return false;
  });
  return found;
}

int ExitLog::count(const std::string& id, const std::string& exec_id) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& e : exits_) n += e.id == id && e.exec_id == exec_id ? 1 : 0;
  return n;
}

// ---- specs and streams ------------------------------------------------------------------------

SpecOptions sh(const std::string& script) {
  SpecOptions o;
  o.args = {"/bin/sh", "-c", script};
  return o;
}

std::string process_json(const SpecOptions& o) {
  json::object caps{{"bounding", strings(kDefaultCaps)},
                    {"effective", strings(kDefaultCaps)},
                    {"permitted", strings(kDefaultCaps)}};
  return json::serialize(json::object{
      {"terminal", o.terminal},
      {"args", strings(o.args)},
      {"env", strings({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})},
      {"cwd", "/"},
      {"user", json::object{{"uid", 0}, {"gid", 0}}},
      {"capabilities", std::move(caps)}});
}

std::string spec_json(const SpecOptions& o) {
  json::array mounts{
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
  };
  json::array namespaces;
  for (const char* ns : {"pid", "ipc", "uts", "mount", "network"}) {
    namespaces.push_back(json::object{{"type", ns}});
  }
  return json::serialize(json::object{
      {"ociVersion", "1.0.2"},
      {"process", json::parse(process_json(o))},
      {"root", json::object{{"path", "rootfs"}, {"readonly", false}}},
      {"hostname", o.hostname},
      {"mounts", std::move(mounts)},
      {"linux", json::object{{"namespaces", std::move(namespaces)},
                             {"resources", json::parse(o.resources_json)}}}});
}

// ---- the fixture ------------------------------------------------------------------------------

void Harness::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "the isolation conformance suite needs root: it runs containers";
  fixture_ = registration_->factory();
  ASSERT_TRUE(static_cast<bool>(fixture_.create)) << "IsolationFixture::create is not set";
  struct stat st {};
  ASSERT_TRUE(!fixture_.rootfs.empty() && ::stat((fixture_.rootfs + "/bin/sh").c_str(), &st) == 0)
      << "IsolationFixture::rootfs (\"" << fixture_.rootfs << "\") has no /bin/sh";
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (auto it = fixture_.skip.find(info->name()); it != fixture_.skip.end()) {
    GTEST_SKIP() << "skipped by the fixture: " << it->second;
  }
  auto temp = TempDir::create(fixture_.temp_parent, "berth-isolation-conf-");
  ASSERT_TRUE(temp) << temp.error().message;
  temp_ = std::move(*temp);
  dirs_.root_dir = temp_.sub("root");
  dirs_.state_dir = temp_.sub("state");
  ASSERT_TRUE(make_dirs(dirs_.root_dir, 0700));
  ASSERT_TRUE(make_dirs(dirs_.state_dir, 0700));
  auto created = fixture_.create(dirs_, &exits_);
  if (!created && created.error().code == ErrorCode::kUnsupported) {
    GTEST_SKIP() << "backend unsupported here: " << created.error().message;
  }
  ASSERT_TRUE(created.has_value()) << "create backend: " << created.error().message;
  ASSERT_TRUE(*created != nullptr) << "create backend returned null";
  backend_ = std::move(*created);
}

void Harness::TearDown() {
  if (backend_ != nullptr) {
    // Whatever the case left: killed, waited for, removed (a failing case must not leak either).
    auto tasks = backend_->list(ctx_);
    EXPECT_TRUE(tasks) << "list: " << tasks.error().message;
    if (tasks) {
      for (const auto& t : *tasks) {
        if (t.status == TaskStatus::kRunning || t.status == TaskStatus::kPaused ||
            t.status == TaskStatus::kCreated) {
          (void)backend_->kill(ctx_, t.id, SIGKILL, true);
          for (int i = 0; i < 1000; ++i) {
            auto st = backend_->state(ctx_, t.id);
            if (!st || st->status == TaskStatus::kStopped) break;
            std::this_thread::sleep_for(10ms);
          }
        }
        auto removed = backend_->remove(ctx_, t.id);
        EXPECT_TRUE(removed) << "remove " << t.id << ": " << removed.error().message;
      }
    }
    backend_.reset();
  }
  if (temp_.path().empty()) return;
  for (const auto& leak : leaks()) ADD_FAILURE() << "left behind: " << leak;
  if (fixture_.leftovers) {
    for (const auto& leak : fixture_.leftovers(dirs_)) ADD_FAILURE() << "left behind: " << leak;
  }
  auto removed = temp_.remove();
  EXPECT_TRUE(removed) << removed.error().message;
}

CreateSpec Harness::create_spec(const std::string& id, const SpecOptions& options) {
  CreateSpec spec;
  spec.bundle = temp_.sub("bundle-" + id);
  ::mkdir(spec.bundle.c_str(), 0700);
  spec.oci_json = spec_json(options);
  spec.rootfs = {Mount{"bind", fixture_.rootfs, "", {"rbind"}}};
  spec.stdio.terminal = options.terminal;
  return spec;
}

Result<int> Harness::create(const std::string& id, const SpecOptions& options, StdioSpec stdio) {
  auto spec = create_spec(id, options);
  spec.stdio = stdio;
  spec.stdio.terminal = stdio.terminal || options.terminal;
  auto pid = backend_->create(ctx_, id, spec);
  if (pid && *pid > 0) {
    pids_.insert(*pid);
    // Only the task's own cgroups: a hierarchy the backend leaves alone shows our own path.
    static const auto own = [] {
      auto dirs = cgroup_dirs_of(static_cast<int>(::getpid()));
      return std::set<std::string>(dirs.begin(), dirs.end());
    }();
    for (auto& dir : cgroup_dirs_of(*pid)) {
      if (!own.contains(dir)) cgroup_dirs_.insert(std::move(dir));
    }
  }
  return pid;
}

Result<int> Harness::exec(const std::string& id, const std::string& exec_id,
                          const SpecOptions& options, StdioSpec stdio) {
  ExecSpec spec{process_json(options), stdio};
  spec.stdio.terminal = stdio.terminal || options.terminal;
  auto pid = backend_->exec(ctx_, id, exec_id, spec);
  if (pid && *pid > 0) pids_.insert(*pid);
  return pid;
}

int Harness::attach(const std::string& id, const std::string& exec_id, bool in) {
  auto fd = backend_->attach(ctx_, id, exec_id, AttachOptions{in, true, true});
  EXPECT_TRUE(fd) << "attach " << id << "/" << exec_id << ": " << fd.error().message;
  return fd ? *fd : -1;
}

Harness::Run Harness::run(const std::string& id, const SpecOptions& options) {
  Run r;
  auto pid = create(id, options);
  EXPECT_TRUE(pid) << "create " << id << ": " << pid.error().message;
  if (!pid) return r;
  int fd = attach(id);
  auto started = backend_->start(ctx_, id, "");
  EXPECT_TRUE(started) << "start " << id << ": " << started.error().message;
  if (fd >= 0) {
    r.output = read_stream(fd, options.terminal);
    ::close(fd);
  }
  r.exit = exits_.wait(id);
  return r;
}

void Harness::finish(const std::string& id) {
  (void)backend_->kill(ctx_, id, SIGKILL, true);
  EXPECT_TRUE(exits_.wait(id)) << "no exit reported for " << id << " after SIGKILL";
  auto removed = backend_->remove(ctx_, id);
  EXPECT_TRUE(removed) << "remove " << id << ": " << removed.error().message;
}

void Harness::recreate() {
  backend_.reset();
  auto created = fixture_.create(dirs_, &exits_);
  ASSERT_TRUE(created.has_value()) << "re-create backend: " << created.error().message;
  backend_ = std::move(*created);
}

std::vector<std::string> Harness::leaks() {
  std::vector<std::string> out;
  // A process may take a moment to be reaped after its task was removed.
  for (int pid : pids_) {
    bool alive = process_alive(pid);
    for (int i = 0; alive && i < 200; ++i) {
      std::this_thread::sleep_for(10ms);
      alive = process_alive(pid);
    }
    if (alive) out.push_back("process " + std::to_string(pid));
  }
  for (const auto& dir : cgroup_dirs_) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) out.push_back("cgroup " + dir);
  }
  auto mounts = mount_points_under(temp_.path());
  if (mounts) {
    for (const auto& m : *mounts) out.push_back("mount " + m);
  }
  return out;
}

}  // namespace berth::sdk::testing::isolation_suite

namespace berth::sdk::testing {

Output read_stream(int fd, bool tty, std::chrono::milliseconds timeout) {
  Output result;
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      result.closed = true;
      break;
    }
    raw.append(buf, static_cast<size_t>(n));
  }
  if (tty) {
    result.out = raw;
    return result;
  }
  // Docker's stdcopy frames: stream byte, three zero bytes, big-endian length.
  size_t i = 0;
  while (i + 8 <= raw.size()) {
    const auto* h = reinterpret_cast<const unsigned char*>(raw.data() + i);
    size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
    if (i + 8 + len > raw.size()) break;
    (h[0] == 2 ? result.err : result.out).append(raw, i + 8, len);
    i += 8 + len;
  }
  return result;
}

std::string read_until(int fd, std::string_view needle, std::chrono::milliseconds timeout) {
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (raw.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  return raw;
}

}  // namespace berth::sdk::testing
