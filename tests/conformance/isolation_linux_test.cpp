// The Linux isolation backend through the real plugin file (berth-isolation-linux.so loaded with
// berth::sdk::host, as berthd loads it), running real containers from a busybox rootfs with
// berth-probe copied in, described by hand-written minimal OCI specs. Needs root; skipped
// otherwise. Every test checks on the way out that it left no mount, cgroup or process behind.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "berth/sdk/host/plugin_library.hpp"
#include "berth/sdk/testing/attach_stream.hpp"
#include "berth/sdk/testing/fs.hpp"
#include "berth/sdk/testing/isolation_conformance.hpp"
#include "core/container/seccomp_default.hpp"
#include "gtest/gtest.h"
#include "tests/conformance/plugin_test_support.hpp"

namespace {

namespace json = boost::json;
namespace sdk = berth::sdk;
using namespace std::chrono_literals;

// ---- plumbing -----------------------------------------------------------------------------

sdk::Logger& logger() { return berth::tests::plugin_test_logger("isolation.linux"); }

struct ExitEvent {
  std::string id, exec_id;
  int pid = 0;
  int exit_code = -1;
  bool oom_killed = false;
  int64_t exited_at = 0;
};

class Events final : public sdk::TaskExitSink {
 public:
  void task_exited(const sdk::TaskExit& exit) noexcept override {
    ExitEvent e{exit.id, exit.exec_id, exit.pid, exit.exit_code, exit.oom_killed,
                exit.exited_at_unix_nano};
    std::lock_guard lock(mu_);
    exits_.push_back(e);
    cv_.notify_all();
  }

  std::optional<ExitEvent> wait(const std::string& id, const std::string& exec_id = "",
                                std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    std::optional<ExitEvent> found;
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

  int count(const std::string& id, const std::string& exec_id = "") {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count_if(exits_.begin(), exits_.end(), [&](const ExitEvent& e) {
      return e.id == id && e.exec_id == exec_id;
    }));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ExitEvent> exits_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

int run_shell(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const std::vector<std::string>& cgroup_roots() {
  static const std::vector<std::string> roots = [] {
    std::vector<std::string> out;
    std::istringstream in(read_text("/proc/self/mountinfo"));
    std::string line;
    while (std::getline(in, line)) {
      auto dash = line.find(" - ");
      if (dash == std::string::npos) continue;
      std::istringstream right(line.substr(dash + 3));
      std::string type;
      right >> type;
      if (type != "cgroup" && type != "cgroup2") continue;
      std::istringstream left(line.substr(0, dash));
      std::string f[5];
      for (auto& x : f) left >> x;
      out.push_back(f[4]);
    }
    return out;
  }();
  return roots;
}

// ---- the fixture: plugin, rootfs, specs ------------------------------------------------------

struct Shared {
  sdk::host::PluginFile plugin;
  std::optional<sdk::testing::TempDir> images;
  std::string rootfs;  // busybox + berth-probe
  std::string error;
};

Shared*& shared_instance() {
  static Shared* instance = nullptr;
  return instance;
}

Shared& shared() {
  Shared*& s = shared_instance();
  if (s == nullptr)
    s = [] {
      auto* out = new Shared;
      out->plugin = sdk::host::load_plugin(BERTH_ISOLATION_PLUGIN_PATH);
      if (out->plugin.outcome != sdk::host::LoadOutcome::kLoaded) {
        out->error = "load plugin: " + out->plugin.reason;
        return out;
      }
      if (::geteuid() != 0) return out;
      auto dir = sdk::testing::TempDir::create({}, "berth-iso-img-");
      if (!dir) {
        out->error = dir.error().message;
        return out;
      }
      out->images.emplace(std::move(*dir));
      out->rootfs = out->images->sub("rootfs");
      const std::string cmd =
          std::string(BERTH_SOURCE_DIR) + "/tests/images/make-busybox-rootfs.sh --dir " +
          out->rootfs + " && cp " + BERTH_PROBE_PATH + " " + out->rootfs +
          "/bin/berth-probe && echo 'staff:x:50:app' >> " + out->rootfs +
          "/etc/group && echo 'audio:x:29:root,app' >> " + out->rootfs + "/etc/group";
      if (run_shell(cmd) != 0) out->error = "building the busybox rootfs failed";
      return out;
    }();
  return *s;
}

// Removes the shared rootfs at the end of the run (the plugin stays loaded: never unloaded).
class SharedCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (shared_instance() != nullptr) shared_instance()->images.reset();
  }
};
const auto* const kSharedCleanup = ::testing::AddGlobalTestEnvironment(new SharedCleanup);

json::array strings(std::initializer_list<std::string> items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
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

// A Docker-like OCI spec (runc conventions) with the given command.
struct SpecOptions {
  std::vector<std::string> args;
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  std::vector<std::string> caps = kDefaultCaps;
  bool terminal = false;
  bool pid_namespace = true;
  bool readonly_root = false;
  bool masks = true;
  bool no_new_privileges = false;
  std::string hostname = "berth-box";
  std::string user;  // org.berth.user
  std::map<std::string, std::string> annotations;
  bool overlay = false;  // the rootfs as an overlay over the shared tree (for tests that write)
  bool userns = false;   // a new user namespace: container 0-65535 = host 100000-165535
  std::string cwd = "/";
  json::object resources;
  std::optional<json::object> seccomp;
  json::array rlimits;
  json::array extra_mounts;
};

json::object process_json(const SpecOptions& o) {
  json::object caps{{"bounding", strings(o.caps)},
                    {"effective", strings(o.caps)},
                    {"permitted", strings(o.caps)},
                    {"inheritable", strings(o.caps)}};
  return json::object{{"terminal", o.terminal},
                      {"args", strings(o.args)},
                      {"env", strings(o.env)},
                      {"cwd", o.cwd},
                      {"user", json::object{{"uid", 0}, {"gid", 0}}},
                      {"capabilities", std::move(caps)},
                      {"rlimits", o.rlimits},
                      {"noNewPrivileges", o.no_new_privileges}};
}

std::string spec_json(const SpecOptions& o) {
  json::array mounts{
      json::object{{"destination", "/proc"},
                   {"type", "proc"},
                   {"source", "proc"},
                   {"options", strings({"nosuid", "noexec", "nodev"})}},
      json::object{{"destination", "/dev"},
                   {"type", "tmpfs"},
                   {"source", "tmpfs"},
                   {"options", strings({"nosuid", "strictatime", "mode=755", "size=65536k"})}},
      json::object{{"destination", "/dev/pts"},
                   {"type", "devpts"},
                   {"source", "devpts"},
                   {"options", strings({"nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                        "mode=0620", "gid=5"})}},
      json::object{{"destination", "/sys"},
                   {"type", "sysfs"},
                   {"source", "sysfs"},
                   {"options", strings({"nosuid", "noexec", "nodev", "ro"})}},
      json::object{{"destination", "/sys/fs/cgroup"},
                   {"type", "cgroup"},
                   {"source", "cgroup"},
                   {"options", strings({"ro", "nosuid", "noexec", "nodev"})}},
      json::object{{"destination", "/dev/mqueue"},
                   {"type", "mqueue"},
                   {"source", "mqueue"},
                   {"options", strings({"nosuid", "noexec", "nodev"})}},
      json::object{
          {"destination", "/dev/shm"},
          {"type", "tmpfs"},
          {"source", "shm"},
          {"options", strings({"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"})}},
  };
  for (const auto& m : o.extra_mounts) mounts.push_back(m);
  json::array namespaces{json::object{{"type", "ipc"}}, json::object{{"type", "uts"}},
                         json::object{{"type", "mount"}}, json::object{{"type", "network"}},
                         json::object{{"type", "cgroup"}}};
  if (o.pid_namespace) namespaces.push_back(json::object{{"type", "pid"}});
  if (o.userns) namespaces.push_back(json::object{{"type", "user"}});
  json::object linux_obj{{"namespaces", std::move(namespaces)}, {"resources", o.resources}};
  if (o.userns) {
    json::array map{json::object{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    linux_obj["uidMappings"] = map;
    linux_obj["gidMappings"] = map;
  }
  if (o.masks) {
    linux_obj["maskedPaths"] =
        strings({"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                 "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                 "/sys/firmware", "/sys/devices/virtual/powercap"});
    linux_obj["readonlyPaths"] =
        strings({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  }
  if (o.seccomp) linux_obj["seccomp"] = *o.seccomp;
  json::object spec{{"ociVersion", "1.0.2"},
                    {"process", process_json(o)},
                    {"root", json::object{{"path", "rootfs"}, {"readonly", o.readonly_root}}},
                    {"hostname", o.hostname},
                    {"mounts", std::move(mounts)},
                    {"linux", std::move(linux_obj)}};
  json::object annotations;
  if (!o.user.empty()) annotations["org.berth.user"] = o.user;
  for (const auto& [k, v] : o.annotations) annotations[k] = v;
  if (!annotations.empty()) spec["annotations"] = std::move(annotations);
  return json::serialize(spec);
}

using berth::sdk::testing::Output;
using berth::sdk::testing::read_stream;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class IsolationLinux : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_TRUE(shared().error.empty()) << shared().error;
    auto dir = sdk::testing::TempDir::create({}, "berth-iso-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    state_dir_ = dir_->sub("state");
    ASSERT_EQ(::mkdir(state_dir_.c_str(), 0700), 0);
    static int counter = 0;
    cgroup_parent_ = "berth-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    mounts_before_ = mount_points();
    backend_ = make_backend();
    ASSERT_NE(backend_, nullptr);
  }

  void TearDown() override {
    if (backend_ != nullptr) {
      sdk::Context ctx;
      auto tasks = backend_->list(ctx);
      if (tasks) {
        for (const auto& t : *tasks) {
          if (t.status == sdk::TaskStatus::kRunning || t.status == sdk::TaskStatus::kPaused) {
            (void)backend_->kill(ctx, t.id, SIGKILL, true);
            events_.wait(t.id, "", 10s);
            for (int i = 0; i < 500; ++i) {
              auto st = backend_->state(ctx, t.id);
              if (!st || st->status == sdk::TaskStatus::kStopped) break;
              std::this_thread::sleep_for(10ms);
            }
          }
          auto removed = backend_->remove(ctx, t.id);
          EXPECT_TRUE(removed) << t.id << ": " << removed.error().message;
        }
      }
      backend_.reset();
    }
    if (!dir_) return;
    // Nothing may be left: no monitor, no container process, no cgroup, no mount.
    EXPECT_EQ(processes_mentioning(state_dir_), std::vector<int>{});
    for (const auto& root : cgroup_roots()) {
      EXPECT_FALSE(exists(root + "/" + cgroup_parent_)) << root << "/" << cgroup_parent_;
    }
    EXPECT_EQ(mount_points(), mounts_before_);
    dir_.reset();
  }

  std::unique_ptr<sdk::IsolationBackend> make_backend(const std::string& extra_config = "") {
    sdk::host::DriverDef def;
    for (const auto& d : shared().plugin.drivers) {
      if (d.id() == "isolation.linux") def = d;
    }
    EXPECT_EQ(def.id(), "isolation.linux");
    sdk::host::HostInit init;
    init.driver_id = "isolation.linux";
    init.config_json = "{\"cgroup-parent\":\"" + cgroup_parent_ + "\"" + extra_config + "}";
    init.root_dir = dir_->path();
    init.state_dir = state_dir_;
    init.core_version = "test";
    init.log = &logger();
    init.task_exits = &events_;
    auto backend = sdk::host::create_isolation(def, init);
    EXPECT_TRUE(backend) << backend.error().message;
    return backend ? std::move(*backend) : nullptr;
  }

  // The host's mount points below this test's directories (its state and the shared rootfs):
  // where a leaked container mount would show. The rest of the table is not this test's to
  // compare: tests running in parallel (btrfs loop filesystems, berthd data-roots) mount there.
  std::multiset<std::string> mount_points() const {
    std::vector<std::string> ours = {dir_->path() + "/"};
    if (shared().images) ours.push_back(shared().images->path() + "/");
    std::multiset<std::string> out;
    std::istringstream in(read_text("/proc/self/mountinfo"));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string a, b, c, d, mp;
      f >> a >> b >> c >> d >> mp;
      for (const auto& prefix : ours) {
        if ((mp + "/").rfind(prefix, 0) == 0) out.insert(mp);
      }
    }
    return out;
  }

  static std::vector<int> processes_mentioning(const std::string& text) {
    std::vector<int> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmdline = read_text("/proc/" + name + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      std::string status = read_text("/proc/" + name + "/status");
      if (status.find("State:\tZ") != std::string::npos) continue;
      if (cmdline.find(text) != std::string::npos) out.push_back(std::stoi(name));
    }
    return out;
  }

  // A bundle for `id` and the rootfs as a plain bind mount of the shared busybox tree.
  sdk::CreateSpec create_spec(const std::string& id, const SpecOptions& options) {
    sdk::CreateSpec spec;
    spec.bundle = dir_->sub("bundle-" + id);
    ::mkdir(spec.bundle.c_str(), 0700);
    spec.oci_json = spec_json(options);
    spec.rootfs = {sdk::Mount{"bind", shared().rootfs, "", {"rbind"}}};
    if (options.overlay) {
      const std::string upper = dir_->sub("upper-" + id), work = dir_->sub("work-" + id);
      ::mkdir(upper.c_str(), 0755);
      ::mkdir(work.c_str(), 0755);
      spec.rootfs = {
          sdk::Mount{"overlay",
                     "overlay",
                     "",
                     {"lowerdir=" + shared().rootfs, "upperdir=" + upper, "workdir=" + work}}};
    }
    spec.stdio.terminal = options.terminal;
    spec.log.path = dir_->sub(id + "-json.log");
    spec.log.max_size = 0;
    spec.log.max_files = 1;
    return spec;
  }

  sdk::Result<int> create(const std::string& id, const SpecOptions& options,
                          sdk::StdioSpec stdio = {}, bool init = false) {
    auto spec = create_spec(id, options);
    spec.stdio = stdio;
    spec.stdio.terminal = stdio.terminal || options.terminal;
    spec.init = init;
    return backend_->create(ctx_, id, spec);
  }

  int attach(const std::string& id, const std::string& exec_id = "", bool in = false) {
    auto fd = backend_->attach(ctx_, id, exec_id, sdk::AttachOptions{in, true, true});
    EXPECT_TRUE(fd) << fd.error().message;
    return fd ? *fd : -1;
  }

  // create + attach + start + wait; the whole output and the exit event.
  struct RunResult {
    Output output;
    std::optional<ExitEvent> exit;
  };
  RunResult run(const std::string& id, const SpecOptions& options, bool init = false) {
    RunResult r;
    auto pid = create(id, options, {}, init);
    EXPECT_TRUE(pid) << pid.error().message;
    if (!pid) return r;
    int fd = attach(id);
    auto started = backend_->start(ctx_, id, "");
    EXPECT_TRUE(started) << started.error().message;
    r.output = read_stream(fd, options.terminal);
    ::close(fd);
    r.exit = events_.wait(id);
    return r;
  }

  void remove(const std::string& id) {
    auto removed = backend_->remove(ctx_, id);
    EXPECT_TRUE(removed) << removed.error().message;
  }

  sdk::Context ctx_;
  Events events_;
  std::optional<sdk::testing::TempDir> dir_;
  std::string state_dir_;
  std::string cgroup_parent_;
  std::multiset<std::string> mounts_before_;
  std::unique_ptr<sdk::IsolationBackend> backend_;
};

SpecOptions sh(const std::string& script) {
  SpecOptions o;
  o.args = {"/bin/sh", "-c", script};
  return o;
}

SpecOptions probe(std::initializer_list<std::string> args) {
  SpecOptions o;
  o.args = {"/bin/berth-probe"};
  for (const auto& a : args) o.args.push_back(a);
  return o;
}

// ---- the SDK's isolation conformance suite, through the .so as berthd loads it -----------------
// The generic task semantics (exit codes, signals, pause, exec, pty resize, stats, re-adoption,
// cleanup) live there; this file keeps what is particular to isolation.linux.

BERTH_ISOLATION_CONFORMANCE(IsolationLinuxConformance, []() -> sdk::testing::IsolationFixture {
  sdk::testing::IsolationFixture f;
  f.rootfs = shared().rootfs;
  // Each case's cgroups under a parent of its own, so parallel runs never meet.
  auto parent = std::make_shared<std::string>();
  f.create = [parent](const sdk::testing::IsolationDirs& dirs, sdk::TaskExitSink* exits)
      -> sdk::Result<std::unique_ptr<sdk::IsolationBackend>> {
    if (!shared().error.empty()) return sdk::make_error(sdk::ErrorCode::kInternal, shared().error);
    if (parent->empty()) {
      static int counter = 0;
      *parent = "berth-conf-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    }
    sdk::host::DriverDef def;
    for (const auto& d : shared().plugin.drivers) {
      if (d.id() == "isolation.linux") def = d;
    }
    sdk::host::HostInit init;
    init.driver_id = "isolation.linux";
    init.config_json = "{\"cgroup-parent\":\"" + *parent + "\"}";
    init.root_dir = dirs.root_dir;
    init.state_dir = dirs.state_dir;
    init.core_version = "conformance";
    init.log = &logger();
    init.task_exits = exits;
    return sdk::host::create_isolation(def, init);
  };
  f.leftovers = [parent](const sdk::testing::IsolationDirs&) {
    std::vector<std::string> left;
    for (const auto& root : cgroup_roots()) {
      if (!parent->empty() && exists(root + "/" + *parent)) left.push_back("cgroup parent " + root + "/" + *parent);
    }
    return left;
  };
  return f;
});

// ---- stage 1: lifecycle, output, logs ----------------------------------------------------------

TEST_F(IsolationLinux, InfoReportsCgroupVersionAndCapabilities) {
  auto info = backend_->info();
  EXPECT_EQ(info.name, "linux");
  EXPECT_NE(std::find(info.capabilities.begin(), info.capabilities.end(), "seccomp"),
            info.capabilities.end());
  bool has_version = false;
  for (const auto& [k, v] : info.status) has_version = has_version || k == "Cgroup Version";
  EXPECT_TRUE(has_version);
}

TEST_F(IsolationLinux, UnknownConfigKeyIsRefused) {
  sdk::host::DriverDef def;
  for (const auto& d : shared().plugin.drivers) {
    if (d.id() == "isolation.linux") def = d;
  }
  sdk::host::HostInit init;
  init.driver_id = "isolation.linux";
  init.config_json = R"({"cgroup-parent":"x","bogus":1})";
  init.state_dir = state_dir_;
  init.log = &logger();
  auto backend = sdk::host::create_isolation(def, init);
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error().code, sdk::ErrorCode::kInvalidArgument);
  EXPECT_NE(backend.error().message.find("bogus"), std::string::npos) << backend.error().message;
}

TEST_F(IsolationLinux, OutputThroughAttachAndLog) {
  auto r = run("output", sh("echo out1; echo err1 >&2; echo out2; printf 'partial'"));
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->exit_code, 0);
  EXPECT_TRUE(r.output.closed);
  EXPECT_EQ(r.output.out, "out1\nout2\npartial");
  EXPECT_EQ(r.output.err, "err1\n");
  std::string log = read_text(dir_->sub("output-json.log"));
  std::vector<json::object> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line).as_object());
  ASSERT_EQ(lines.size(), 4U) << log;
  std::string out, err;
  for (const auto& l : lines) {
    const std::string stream(l.at("stream").as_string());
    (stream == "stdout" ? out : err) += std::string(l.at("log").as_string());
    const std::string time(l.at("time").as_string());
    EXPECT_EQ(time.back(), 'Z') << time;
    EXPECT_EQ(time[10], 'T') << time;
  }
  EXPECT_EQ(out, "out1\nout2\npartial");
  EXPECT_EQ(err, "err1\n");
}

TEST_F(IsolationLinux, KillWithSignalGives143WithInit) {
  auto pid = create("term", probe({"sleep"}), {}, /*init=*/true);
  ASSERT_TRUE(pid) << pid.error().message;
  ASSERT_TRUE(backend_->start(ctx_, "term", ""));
  // Until berth-init has set itself up, pid 1 without handlers ignores SIGTERM: ask again.
  std::optional<ExitEvent> exit;
  for (int i = 0; i < 50 && !exit; ++i) {
    ASSERT_TRUE(backend_->kill(ctx_, "term", SIGTERM, false));
    exit = events_.wait("term", "", 200ms);
  }
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 143);
}

TEST_F(IsolationLinux, MissingCommandFailsAtStartWithDockersWording) {
  auto pid = create("nocmd", [] {
    SpecOptions o;
    o.args = {"nosuchcmd"};
    return o;
  }());
  ASSERT_TRUE(pid) << pid.error().message;
  auto started = backend_->start(ctx_, "nocmd", "");
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("exec: \"nosuchcmd\": executable file not found in $PATH"),
            std::string::npos)
      << started.error().message;
  auto exit = events_.wait("nocmd");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 127);
  auto st = backend_->state(ctx_, "nocmd");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, sdk::TaskStatus::kStopped);
  EXPECT_EQ(st->exit_code, 127);

  auto path = create("nopath", [] {
    SpecOptions o;
    o.args = {"/x/y"};
    return o;
  }());
  ASSERT_TRUE(path) << path.error().message;
  started = backend_->start(ctx_, "nopath", "");
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("exec: \"/x/y\": stat /x/y: no such file or directory"),
            std::string::npos)
      << started.error().message;
  exit = events_.wait("nopath");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 127);

  auto perm = create("noperm", [] {
    SpecOptions o;
    o.args = {"/etc/passwd"};
    return o;
  }());
  ASSERT_TRUE(perm) << perm.error().message;
  started = backend_->start(ctx_, "noperm", "");
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("permission denied"), std::string::npos)
      << started.error().message;
  exit = events_.wait("noperm");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 126);
  EXPECT_EQ(events_.count("noperm"), 1);
}

TEST_F(IsolationLinux, PidNamespaceShowsOnlyTheContainer) {
  auto r = run("pidns", sh("echo $$; ls /proc | grep -c '^[0-9]'"));
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->exit_code, 0);
  std::istringstream in(r.output.out);
  std::string pid, count;
  in >> pid >> count;
  EXPECT_EQ(pid, "1");
  // sh, ls, grep at most.
  EXPECT_LE(std::stoi(count), 3) << r.output.out;
}

TEST_F(IsolationLinux, MountNamespaceHidesHostMounts) {
  auto r = run("mntns", probe({"mounts"}));
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->exit_code, 0);
  EXPECT_EQ(r.output.out.find(dir_->path()), std::string::npos) << r.output.out;
  EXPECT_EQ(r.output.out.find("/work"), std::string::npos) << r.output.out;
  EXPECT_NE(r.output.out.find("/proc\n"), std::string::npos) << r.output.out;
  EXPECT_NE(r.output.out.find("/dev/pts\n"), std::string::npos) << r.output.out;
}

TEST_F(IsolationLinux, HostnameIsSet) {
  auto r = run("host", sh("hostname"));
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(trim(r.output.out), "berth-box");
}

// ---- stage 2: stdin, terminal, exec, pause, stats, update ------------------------------------

std::string slurp_until(int fd, const std::string& needle, std::chrono::milliseconds timeout) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd p {
      fd, POLLIN, 0
    };
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST_F(IsolationLinux, StdinThroughAttachWithHalfClose) {
  auto pid = create("stdin", probe({"echo-stdin"}), sdk::StdioSpec{false, true, true});
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("stdin", "", /*in=*/true);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(backend_->start(ctx_, "stdin", ""));
  const std::string input = "hello\nworld\n";
  ASSERT_EQ(::write(fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ::shutdown(fd, SHUT_WR);
  auto out = read_stream(fd, false);
  ::close(fd);
  EXPECT_TRUE(out.closed);
  EXPECT_EQ(out.out, "hello\nworld\neof\n");
  auto exit = events_.wait("stdin");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 0);
}

TEST_F(IsolationLinux, TerminalIsRawAndResizeBeforeStartIsApplied) {
  SpecOptions o = sh("tty; berth-probe winsize; echo done");
  o.terminal = true;
  auto pid = create("tty", o);
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("tty");
  ASSERT_TRUE(backend_->resize(ctx_, "tty", "", 50, 120));
  ASSERT_TRUE(backend_->start(ctx_, "tty", ""));
  auto out = read_stream(fd, true);
  ::close(fd);
  EXPECT_EQ(out.out, "/dev/pts/0\r\n50 120\r\ndone\r\n");
  auto exit = events_.wait("tty");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 0);
  // A terminal's output is all stdout in the log.
  std::string log = read_text(dir_->sub("tty-json.log"));
  EXPECT_NE(log.find(R"({"log":"/dev/pts/0\r\n","stream":"stdout")"), std::string::npos) << log;
}

TEST_F(IsolationLinux, TerminalStdinAndResizeWhileRunning) {
  SpecOptions o = sh("read line; berth-probe winsize; echo got $line");
  o.terminal = true;
  auto pid = create("ttyin", o, sdk::StdioSpec{true, true, false});
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("ttyin", "", true);
  ASSERT_TRUE(backend_->start(ctx_, "ttyin", ""));
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(backend_->resize(ctx_, "ttyin", "", 33, 77));
  ASSERT_EQ(::write(fd, "abc\r", 4), 4);
  auto out = read_stream(fd, true);
  ::close(fd);
  EXPECT_NE(out.out.find("33 77\r\n"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("got abc\r\n"), std::string::npos) << out.out;
}

TEST_F(IsolationLinux, ExecRunsInsideWithItsOwnOutputAndExitCode) {
  auto pid = create("execs", probe({"sleep"}));
  ASSERT_TRUE(pid) << pid.error().message;
  ASSERT_TRUE(backend_->start(ctx_, "execs", ""));
  sdk::ExecSpec es;
  SpecOptions p = sh("echo pid=$$; hostname; echo oops >&2; exit 3");
  es.process_json = json::serialize(process_json(p));
  auto exec_pid = backend_->exec(ctx_, "execs", "e1", es);
  ASSERT_TRUE(exec_pid) << exec_pid.error().message;
  EXPECT_GT(*exec_pid, 0);
  int fd = attach("execs", "e1");
  ASSERT_TRUE(backend_->start(ctx_, "execs", "e1"));
  auto out = read_stream(fd, false);
  ::close(fd);
  EXPECT_TRUE(out.closed);
  EXPECT_NE(out.out.find("pid="), std::string::npos);
  EXPECT_EQ(out.out.find("pid=1\n"), std::string::npos) << out.out;  // not the container's init
  EXPECT_NE(out.out.find("berth-box\n"), std::string::npos) << out.out;
  EXPECT_EQ(out.err, "oops\n");
  auto exit = events_.wait("execs", "e1");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 3);
  EXPECT_EQ(exit->pid, *exec_pid);
  // The container is untouched and its log holds nothing of the exec.
  auto st = backend_->state(ctx_, "execs");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, sdk::TaskStatus::kRunning);
  EXPECT_EQ(read_text(dir_->sub("execs-json.log")), "");

  // A missing command fails at start with Docker's words, and still reports its exit.
  sdk::ExecSpec missing;
  SpecOptions m;
  m.args = {"nosuchcmd"};
  missing.process_json = json::serialize(process_json(m));
  ASSERT_TRUE(backend_->exec(ctx_, "execs", "e2", missing));
  auto started = backend_->start(ctx_, "execs", "e2");
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("executable file not found in $PATH"), std::string::npos)
      << started.error().message;
  exit = events_.wait("execs", "e2");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 127);

  // A held exec dies with its container.
  sdk::ExecSpec held;
  held.process_json = json::serialize(process_json(probe({"sleep"})));
  ASSERT_TRUE(backend_->exec(ctx_, "execs", "e3", held));
  ASSERT_TRUE(backend_->kill(ctx_, "execs", SIGKILL, false));
  exit = events_.wait("execs", "e3");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 137);
  ASSERT_TRUE(events_.wait("execs"));
}

TEST_F(IsolationLinux, LogRotatesAndSplitsLongLines) {
  SpecOptions o =
      sh("i=0; while [ $i -lt 60 ]; do echo line-$i; i=$((i+1)); done; "
         "head -c 40000 /dev/zero | tr '\\0' x");
  auto spec = create_spec("rot", o);
  spec.log.max_size = 20000;
  spec.log.max_files = 3;
  auto pid = backend_->create(ctx_, "rot", spec);
  ASSERT_TRUE(pid) << pid.error().message;
  ASSERT_TRUE(backend_->start(ctx_, "rot", ""));
  ASSERT_TRUE(events_.wait("rot"));
  const std::string base = spec.log.path;
  EXPECT_TRUE(exists(base));
  EXPECT_TRUE(exists(base + ".1"));
  EXPECT_TRUE(exists(base + ".2"));
  EXPECT_FALSE(exists(base + ".3"));
  // The 40000-byte line without a newline: 16 KiB, 16 KiB, and the rest at exit.
  std::vector<size_t> partial;
  for (const auto& file : {base + ".2", base + ".1", base}) {
    std::istringstream in(read_text(file));
    std::string line;
    while (std::getline(in, line)) {
      auto o2 = json::parse(line).as_object();
      const std::string text(o2.at("log").as_string());
      if (text.find("xxxx") != std::string::npos) partial.push_back(text.size());
    }
    EXPECT_LE(read_text(file).size(), 20000U + 17000U) << file;
  }
  EXPECT_EQ(partial, (std::vector<size_t>{16384, 16384, 40000 - 2 * 16384}));
}

// ---- stage 3: privileges, seccomp, users, limits, init, cgroup v2 ------------------------------

TEST_F(IsolationLinux, CapabilitiesAreReallyDropped) {
  auto r = run("caps", probe({"caps"}));
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(trim(r.output.out), "00000000a80425fb");  // Docker's default set
  r = run("nomount", probe({"syscall", "mount"}));
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(trim(r.output.out), "EPERM");
  SpecOptions admin = probe({"syscall", "mount"});
  admin.caps.push_back("CAP_SYS_ADMIN");
  r = run("mount", admin);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(trim(r.output.out), "allowed");
}

TEST_F(IsolationLinux, NoNewPrivileges) {
  SpecOptions o = probe({"nnp"});
  o.no_new_privileges = true;
  auto r = run("nnp", o);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(trim(r.output.out), "1");
  r = run("nnp0", probe({"nnp"}));
  EXPECT_EQ(trim(r.output.out), "0");
}

TEST_F(IsolationLinux, UserResolvedByNameWithGroupsAndHome) {
  SpecOptions o = sh("berth-probe ids; echo $HOME");
  o.user = "app";
  auto r = run("user", o);
  ASSERT_TRUE(r.exit);
  // uid, gid, then the supplementary groups, which hold the primary one too (as dockerd sets
  // them); the kernel sorts them.
  EXPECT_EQ(r.output.out, "1000 1000 29 50 1000\n/home/app\n");
  o.user = "app:root";
  r = run("usergrp", o);
  EXPECT_EQ(r.output.out, "1000 0 0\n/home/app\n");
  o.user = "4321";
  r = run("numeric", o);
  EXPECT_EQ(r.output.out, "4321 0 0\n/\n");
  o.user = "nosuchuser";
  auto created = create("nouser", o);
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find(
                "unable to find user nosuchuser: no matching entries in passwd file"),
            std::string::npos)
      << created.error().message;
}

TEST_F(IsolationLinux, CoreAnnotationsGroupAddCwdAndDomainname) {
  SpecOptions o = sh("berth-probe ids; pwd; cat /proc/sys/kernel/domainname");
  o.user = "app";
  o.cwd = "/srv/work";
  o.overlay = true;
  o.annotations = {{"org.berth.group-add", "root,4242"},
                   {"org.berth.create-cwd", "true"},
                   {"org.berth.domainname", "example.org"}};
  auto r = run("annot", o);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.output.out, "1000 1000 0 29 50 1000 4242\n/srv/work\nexample.org\n") << r.output.err;
  o.annotations = {{"org.berth.group-add", "nosuchgroup"}};
  o.cwd = "/";
  auto created = create("badgroup", o);
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find(
                "unable to find group nosuchgroup: no matching entries in group file"),
            std::string::npos)
      << created.error().message;
}

TEST_F(IsolationLinux, MaskedAndReadonlyPaths) {
  auto r = run("masks", sh("cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; "
                           "echo 1 > /proc/sys/kernel/domainname && echo writable || echo ro"));
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.output.out, "0\n0\nro\n") << r.output.err;
}

TEST_F(IsolationLinux, ReadOnlyRoot) {
  SpecOptions o = sh("berth-probe write-file /etc/x; berth-probe write-file /dev/shm/x");
  o.readonly_root = true;
  auto r = run("rofs", o);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.output.out, "EROFS\nok\n");
}

TEST_F(IsolationLinux, RlimitsAppliedAndRefusedAboveTheHardLimit) {
  SpecOptions o = probe({"rlimit", "nofile"});
  o.rlimits = json::array{json::object{{"type", "RLIMIT_NOFILE"}, {"hard", 200}, {"soft", 100}}};
  auto r = run("rlimit", o);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(trim(r.output.out), "100 200");
  struct rlimit current {};
  ::getrlimit(RLIMIT_NOFILE, &current);
  ASSERT_NE(current.rlim_max, RLIM_INFINITY);
  o.rlimits = json::array{
      json::object{{"type", "RLIMIT_NOFILE"}, {"hard", current.rlim_max + 1}, {"soft", 1024}}};
  auto created = create("rlimit2", o);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, sdk::ErrorCode::kInvalidArgument);
  EXPECT_NE(created.error().message.find("RLIMIT_NOFILE"), std::string::npos);
  EXPECT_NE(created.error().message.find("above the current hard limit"), std::string::npos)
      << created.error().message;
}

TEST_F(IsolationLinux, MemoryLimitOomKillsAHog) {
  SpecOptions o = probe({"alloc", "256"});
  o.resources = json::object{{"memory", json::object{{"limit", 32 << 20}, {"swap", 32 << 20}}}};
  auto r = run("oom", o);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->exit_code, 137);
  EXPECT_TRUE(r.exit->oom_killed);
  auto st = backend_->state(ctx_, "oom");
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->oom_killed);
}

TEST_F(IsolationLinux, PidsLimitStopsAForkBomb) {
  SpecOptions o = probe({"fork-bomb", "1000"});
  o.resources = json::object{{"pids", json::object{{"limit", 20}}}};
  auto r = run("forkbomb", o);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->exit_code, 0);
  int forked = std::stoi(trim(r.output.out));
  EXPECT_GE(forked, 10);
  EXPECT_LT(forked, 20);
}

json::object default_profile() {
  return berth::core::container::default_seccomp_profile(kDefaultCaps);
}

TEST_F(IsolationLinux, SeccompDefaultProfileBlocksKeyctl) {
  SpecOptions o =
      sh("berth-probe syscall keyctl; berth-probe syscall personality; "
         "berth-probe syscall clone-newns; berth-probe syscall unshare");
  o.caps.push_back("CAP_SYS_ADMIN");  // so only seccomp can refuse
  auto unconfined = run("unconfined", o);
  ASSERT_TRUE(unconfined.exit);
  std::istringstream u(unconfined.output.out);
  std::string keyctl, personality, clone, unshare;
  u >> keyctl >> personality >> clone >> unshare;
  EXPECT_NE(keyctl, "EPERM") << unconfined.output.out;
  EXPECT_EQ(personality, "allowed") << unconfined.output.out;
  EXPECT_EQ(clone, "allowed") << unconfined.output.out;

  o.caps = kDefaultCaps;
  o.seccomp = default_profile();
  auto confined = run("confined", o);
  ASSERT_TRUE(confined.exit);
  EXPECT_EQ(confined.exit->exit_code, 0);
  std::istringstream c(confined.output.out);
  c >> keyctl >> personality >> clone >> unshare;
  EXPECT_EQ(keyctl, "EPERM") << confined.output.out;
  EXPECT_EQ(personality, "EPERM") << confined.output.out;
  EXPECT_EQ(clone, "EPERM") << confined.output.out;
  EXPECT_EQ(unshare, "EPERM") << confined.output.out;

  // With no_new_privs the filter goes in last, and still holds.
  o.no_new_privileges = true;
  auto nnp = run("confinednnp", o);
  ASSERT_TRUE(nnp.exit);
  EXPECT_EQ(nnp.output.out.substr(0, 6), "EPERM\n") << nnp.output.out;
}

TEST_F(IsolationLinux, InitIsPidOneAndReapsAndForwardsExitCode) {
  auto r = run("init", sh("(sleep 0.1 &) ; cat /proc/1/cmdline | tr '\\0' ' '; echo; exit 5"),
               /*init=*/true);
  ASSERT_TRUE(r.exit);
  EXPECT_EQ(r.exit->exit_code, 5);
  EXPECT_EQ(r.output.out.substr(0, 13), "/dev/init -- ") << r.output.out;
}

TEST_F(IsolationLinux, CgroupV2Manager) {
  // This host has v1 controllers with an (almost empty) cgroup2 mount beside them: enough to run
  // the v2 manager's own paths (directories, procs, freeze, kill), not its resource limits.
  const std::string unified = "/sys/fs/cgroup/unified";
  if (!exists(unified + "/cgroup.procs")) GTEST_SKIP() << "no cgroup2 mount";
  backend_.reset();
  backend_ = make_backend(",\"cgroup-v2-root\":\"" + unified + "\"");
  ASSERT_NE(backend_, nullptr);
  auto info = backend_->info();
  EXPECT_NE(std::find(info.capabilities.begin(), info.capabilities.end(), "cgroup2"),
            info.capabilities.end());
  SpecOptions o = probe({"count", "100000", "10"});
  auto pid = create("v2", o);
  ASSERT_TRUE(pid) << pid.error().message;
  EXPECT_TRUE(exists(unified + "/" + cgroup_parent_ + "/v2/cgroup.procs"));
  int fd = attach("v2");
  ASSERT_TRUE(backend_->start(ctx_, "v2", ""));
  slurp_until(fd, "3\n", 5s);
  auto pids = backend_->pids(ctx_, "v2");
  ASSERT_TRUE(pids);
  EXPECT_NE(std::find(pids->begin(), pids->end(), *pid), pids->end());
  ASSERT_TRUE(backend_->pause(ctx_, "v2"));
  slurp_until(fd, "never", 200ms);
  EXPECT_EQ(slurp_until(fd, "never", 400ms), "");
  ASSERT_TRUE(backend_->resume(ctx_, "v2"));
  // Output resumes; under a loaded CI machine it may take a moment to be scheduled.
  EXPECT_NE(slurp_until(fd, "\n", 5s), "");
  ::close(fd);
  ASSERT_TRUE(backend_->kill(ctx_, "v2", SIGKILL, true));
  auto exit = events_.wait("v2");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 137);
  remove("v2");
  EXPECT_FALSE(exists(unified + "/" + cgroup_parent_));
}

// ---- mounts, devices, namespaces, hygiene ------------------------------------------------------

TEST_F(IsolationLinux, DockerDeviceRulesAndSysctl) {
  SpecOptions o =
      sh("head -c 4 /dev/zero | wc -c; cat /proc/sys/net/ipv4/ip_forward; "
         "mknod /dev/sda b 8 0 && head -c 1 /dev/sda 2>&1 | grep -c 'not permitted'");
  auto rule = [](bool allow, const char* type, int64_t major, int64_t minor, const char* access) {
    json::object r{{"allow", allow}, {"type", type}, {"access", access}};
    if (major >= 0) r["major"] = major;
    if (minor >= 0) r["minor"] = minor;
    return r;
  };
  o.resources = json::object{
      {"devices", json::array{rule(false, "a", -1, -1, "rwm"), rule(true, "c", -1, -1, "m"),
                              rule(true, "b", -1, -1, "m"), rule(true, "c", 1, 3, "rwm"),
                              rule(true, "c", 1, 5, "rwm"), rule(true, "c", 1, 7, "rwm"),
                              rule(true, "c", 1, 8, "rwm"), rule(true, "c", 1, 9, "rwm"),
                              rule(true, "c", 5, 0, "rwm"), rule(true, "c", 5, 2, "rwm"),
                              rule(true, "c", 136, -1, "rwm")}}};
  auto spec = create_spec("devices", o);
  auto oci = json::parse(spec.oci_json).as_object();
  oci["linux"].as_object()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}};
  spec.oci_json = json::serialize(oci);
  auto pid = backend_->create(ctx_, "devices", spec);
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("devices");
  ASSERT_TRUE(backend_->start(ctx_, "devices", ""));
  auto out = read_stream(fd, false);
  ::close(fd);
  EXPECT_EQ(out.out, "4\n1\n1\n") << out.err;
  ASSERT_TRUE(events_.wait("devices"));
}

TEST_F(IsolationLinux, BindMountOptionsAndNoEscapeThroughSymlinks) {
  // A private copy of the rootfs with a symlink pointing at a host directory.
  const std::string root = dir_->sub("evilroot");
  ASSERT_EQ(run_shell("cp -a " + shared().rootfs + " " + root), 0);
  const std::string host_target = dir_->sub("host-target");
  ASSERT_EQ(::mkdir(host_target.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(host_target.c_str(), (root + "/evil").c_str()), 0);
  const std::string data = dir_->sub("data");
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  std::ofstream(data + "/hello") << "hi\n";

  SpecOptions o =
      sh("cat /data/hello; touch /data/x 2>&1 | grep -c Read-only; "
         "cat /evil/sub/hello; grep ' /data ' /proc/self/mountinfo | grep -c nosuid");
  o.extra_mounts =
      json::array{json::object{{"destination", "/data"},
                               {"type", "bind"},
                               {"source", data},
                               {"options", strings({"rbind", "ro", "nosuid", "rprivate"})}},
                  json::object{{"destination", "/evil/sub"},
                               {"type", "bind"},
                               {"source", data},
                               {"options", strings({"bind"})}}};
  auto spec = create_spec("binds", o);
  spec.rootfs = {sdk::Mount{"bind", root, "", {"rbind"}}};
  auto pid = backend_->create(ctx_, "binds", spec);
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("binds");
  ASSERT_TRUE(backend_->start(ctx_, "binds", ""));
  auto out = read_stream(fd, false);
  ::close(fd);
  EXPECT_EQ(out.out, "hi\n1\nhi\n1\n") << out.err;
  ASSERT_TRUE(events_.wait("binds"));
  // The symlink was resolved inside the rootfs: the host directory got nothing.
  EXPECT_FALSE(exists(host_target + "/sub"));
  EXPECT_TRUE(exists(root + host_target + "/sub"));
}

TEST_F(IsolationLinux, OverlayRootfsKeepsWritesInTheUpperDir) {
  const std::string upper = dir_->sub("upper"), work = dir_->sub("work");
  ASSERT_EQ(::mkdir(upper.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
  auto spec = create_spec("overlay", sh("echo written > /etc/new-file; cat /etc/new-file"));
  spec.rootfs = {
      sdk::Mount{"overlay",
                 "overlay",
                 "",
                 {"lowerdir=" + shared().rootfs, "upperdir=" + upper, "workdir=" + work}}};
  auto pid = backend_->create(ctx_, "overlay", spec);
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("overlay");
  ASSERT_TRUE(backend_->start(ctx_, "overlay", ""));
  EXPECT_EQ(read_stream(fd, false).out, "written\n");
  ::close(fd);
  ASSERT_TRUE(events_.wait("overlay"));
  EXPECT_EQ(read_text(upper + "/etc/new-file"), "written\n");
  EXPECT_FALSE(exists(shared().rootfs + "/etc/new-file"));
}

TEST_F(IsolationLinux, JoinsANetworkNamespaceByPath) {
  // A throw-away network namespace held by a sleeping process (the host's is never touched).
  pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    ::execl("/usr/bin/unshare", "unshare", "--net", "sleep", "30", nullptr);
    ::_exit(127);
  }
  std::string ns_path = "/proc/" + std::to_string(holder) + "/ns/net";
  std::string theirs;
  for (int i = 0; i < 200; ++i) {
    char buf[64] = {};
    ssize_t n = ::readlink(ns_path.c_str(), buf, sizeof buf - 1);
    char mine[64] = {};
    ::readlink("/proc/self/ns/net", mine, sizeof mine - 1);
    if (n > 0 && std::string(buf) != mine) {
      theirs = buf;
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(theirs.empty());
  auto spec = create_spec("netns", sh("readlink /proc/self/ns/net"));
  auto oci = json::parse(spec.oci_json).as_object();
  auto& nss = oci["linux"].as_object()["namespaces"].as_array();
  for (auto& n : nss) {
    if (n.as_object()["type"].as_string() == "network") n.as_object()["path"] = ns_path;
  }
  spec.oci_json = json::serialize(oci);
  auto pid = backend_->create(ctx_, "netns", spec);
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("netns");
  ASSERT_TRUE(backend_->start(ctx_, "netns", ""));
  EXPECT_EQ(trim(read_stream(fd, false).out), theirs);
  ::close(fd);
  ASSERT_TRUE(events_.wait("netns"));
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
}

TEST_F(IsolationLinux, MonitorHoldsNothingOfTheDaemonOrTheBundle) {
  // A listening socket and a pipe without close-on-exec, as a careless daemon would have.
  int leak_sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(leak_sock, 0);
  int leak_pipe[2];
  ASSERT_EQ(::pipe(leak_pipe), 0);
  auto pid = create("hygiene", probe({"sleep"}));
  ::close(leak_sock);
  ::close(leak_pipe[0]);
  ::close(leak_pipe[1]);
  ASSERT_TRUE(pid) << pid.error().message;
  ASSERT_TRUE(backend_->start(ctx_, "hygiene", ""));
  std::istringstream status(read_text("/proc/" + std::to_string(*pid) + "/status"));
  std::string line;
  int monitor = 0;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) monitor = std::stoi(line.substr(5));
  }
  ASSERT_GT(monitor, 1);
  EXPECT_NE(monitor, ::getpid());
  char cwd[256] = {};
  ::readlink(("/proc/" + std::to_string(monitor) + "/cwd").c_str(), cwd, sizeof cwd - 1);
  EXPECT_EQ(std::string(cwd), "/");
  EXPECT_NE(::getsid(monitor), ::getsid(0));
  const std::string bundle = dir_->sub("bundle-hygiene");
  for (int who : {monitor, *pid}) {
    for (const auto& e :
         std::filesystem::directory_iterator("/proc/" + std::to_string(who) + "/fd")) {
      char target[512] = {};
      ::readlink(e.path().c_str(), target, sizeof target - 1);
      const std::string t = target;
      EXPECT_EQ(t.find(bundle), std::string::npos) << who << " holds " << t;
      if (who == monitor) {
        // Only its own: /dev/null, the log, pipes/sockets it made, epoll, signalfd, and the
        // plugin's sealed memfds of create.json and the seccomp program.
        EXPECT_TRUE(t == "/dev/null" || t.rfind("pipe:", 0) == 0 || t.rfind("socket:", 0) == 0 ||
                    t.rfind("anon_inode:", 0) == 0 || t.find("-json.log") != std::string::npos ||
                    t.rfind("/memfd:berth-create-config", 0) == 0 ||
                    t.rfind("/memfd:berth-seccomp", 0) == 0)
            << t;
      }
    }
  }
  // The container's mounts are in its own namespace: the host sees no rootfs mount.
  EXPECT_EQ(read_text("/proc/self/mountinfo").find(bundle), std::string::npos);
}

TEST_F(IsolationLinux, StdinStaysOpenWithoutStdinOnceAndAttachAfterExitFails) {
  auto pid = create("keepin", probe({"echo-stdin"}), sdk::StdioSpec{false, true, false});
  ASSERT_TRUE(pid) << pid.error().message;
  int first = attach("keepin", "", true);
  ASSERT_TRUE(backend_->start(ctx_, "keepin", ""));
  ASSERT_EQ(::write(first, "a\n", 2), 2);
  ::shutdown(first, SHUT_WR);
  std::this_thread::sleep_for(200ms);
  auto st = backend_->state(ctx_, "keepin");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, sdk::TaskStatus::kRunning);  // stdin still open for the next client
  int second = attach("keepin", "", true);
  ASSERT_EQ(::write(second, "b\n", 2), 2);
  ::close(second);
  // Both lines come back through the first client (frames: header + "a\n", header + "b\n").
  std::string raw = slurp_until(first, "b\n", 10s);
  ::close(first);
  EXPECT_NE(raw.find("a\n"), std::string::npos);
  EXPECT_NE(raw.find("b\n"), std::string::npos);
  ASSERT_TRUE(backend_->kill(ctx_, "keepin", SIGKILL, false));
  ASSERT_TRUE(events_.wait("keepin"));
  auto late = backend_->attach(ctx_, "keepin", "", sdk::AttachOptions{});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, sdk::ErrorCode::kFailedPrecondition);
}

TEST_F(IsolationLinux, CpuResourcesOnTheHost) {
  SpecOptions o = probe({"sleep"});
  o.resources =
      json::object{{"cpu", json::object{{"shares", 512}, {"quota", 50000}, {"period", 100000}}}};
  auto pid = create("cpu", o);
  ASSERT_TRUE(pid) << pid.error().message;
  std::string cpu_dir;
  for (const auto& root : cgroup_roots()) {
    if (exists(root + "/" + cgroup_parent_ + "/cpu/cpu.shares"))
      cpu_dir = root + "/" + cgroup_parent_ + "/cpu";
  }
  if (cpu_dir.empty()) GTEST_SKIP() << "no v1 cpu controller";
  EXPECT_EQ(trim(read_text(cpu_dir + "/cpu.shares")), "512");
  EXPECT_EQ(trim(read_text(cpu_dir + "/cpu.cfs_quota_us")), "50000");
  ASSERT_TRUE(backend_->update(ctx_, "cpu", R"({"cpu":{"quota":25000}})"));
  EXPECT_EQ(trim(read_text(cpu_dir + "/cpu.cfs_quota_us")), "25000");
}

TEST_F(IsolationLinux, UserNamespaceRemapsRoot) {
  SpecOptions o =
      sh("id -u; tr -s ' ' < /proc/self/uid_map; stat -c %u /bin/busybox; "
         "head -c 3 /dev/zero | wc -c; hostname");
  o.userns = true;
  auto pid = create("userns", o);
  ASSERT_TRUE(pid) << pid.error().message;
  // Seen from the host, the container's root is 100000.
  std::istringstream status(read_text("/proc/" + std::to_string(*pid) + "/status"));
  std::string line, uid_line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  }
  EXPECT_EQ(uid_line.substr(0, 11), "Uid:\t100000") << uid_line;
  int fd = attach("userns");
  ASSERT_TRUE(backend_->start(ctx_, "userns", ""));
  auto out = read_stream(fd, false);
  ::close(fd);
  // The image's files belong to the host's root, outside the mapping: the overflow uid.
  EXPECT_EQ(out.out, "0\n 0 100000 65536\n65534\n3\nberth-box\n") << out.err;
  auto exit = events_.wait("userns");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 0);

  // An exec joins the user namespace too.
  auto pid2 = create("userns2", [] {
    SpecOptions p = probe({"sleep"});
    p.userns = true;
    return p;
  }());
  ASSERT_TRUE(pid2) << pid2.error().message;
  ASSERT_TRUE(backend_->start(ctx_, "userns2", ""));
  sdk::ExecSpec es;
  es.process_json = json::serialize(process_json(sh("id -u; tr -s ' ' < /proc/self/gid_map")));
  auto epid = backend_->exec(ctx_, "userns2", "x", es);
  ASSERT_TRUE(epid) << epid.error().message;
  int efd = attach("userns2", "x");
  ASSERT_TRUE(backend_->start(ctx_, "userns2", "x"));
  EXPECT_EQ(read_stream(efd, false).out, "0\n 0 100000 65536\n");
  ::close(efd);
  ASSERT_TRUE(events_.wait("userns2", "x"));
}

// ---- stage 4: re-adoption -----------------------------------------------------------------------

TEST_F(IsolationLinux, MonitorSurvivesItsParentAndKeepsLogging) {
  // A throw-away "daemon" process creates and starts a container, then dies without cleaning up.
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  pid_t daemon = ::fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    ::close(report[0]);
    auto backend = make_backend();
    int value = -1;
    if (backend != nullptr) {
      auto pid =
          backend->create(ctx_, "orphan", create_spec("orphan", probe({"count", "30", "100"})));
      if (pid && backend->start(ctx_, "orphan", "")) value = *pid;
    }
    (void)!::write(report[1], &value, sizeof value);
    ::_exit(0);  // no destructor, no cleanup: like a SIGKILLed berthd
  }
  ::close(report[1]);
  int pid = -1;
  ASSERT_EQ(::read(report[0], &pid, sizeof pid), static_cast<ssize_t>(sizeof pid));
  ::close(report[0]);
  int status = 0;
  ::waitpid(daemon, &status, 0);
  ASSERT_GT(pid, 0);
  auto st = backend_->state(ctx_, "orphan");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->status, sdk::TaskStatus::kRunning);
  // Wait for its end through the state (this instance never subscribed to it).
  for (int i = 0; i < 1000; ++i) {
    st = backend_->state(ctx_, "orphan");
    if (st && st->status == sdk::TaskStatus::kStopped) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, sdk::TaskStatus::kStopped);
  EXPECT_EQ(st->exit_code, 0);
  std::istringstream log(read_text(dir_->sub("orphan-json.log")));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) ++lines;
  EXPECT_EQ(lines, 30);
}

TEST_F(IsolationLinux, AKilledMonitorStopsItsContainerAndIsReported) {
  auto pid = create("lost", probe({"sleep"}));
  ASSERT_TRUE(pid) << pid.error().message;
  ASSERT_TRUE(backend_->start(ctx_, "lost", ""));
  std::istringstream status(read_text("/proc/" + std::to_string(*pid) + "/status"));
  std::string line;
  int monitor = 0;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) monitor = std::stoi(line.substr(5));
  }
  ASSERT_GT(monitor, 1);
  ASSERT_EQ(::kill(monitor, SIGKILL), 0);
  auto exit = events_.wait("lost");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 255);
  auto st = backend_->state(ctx_, "lost");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, sdk::TaskStatus::kStopped);
  for (int i = 0; i < 200 && exists("/proc/" + std::to_string(*pid) + "/status") &&
                  read_text("/proc/" + std::to_string(*pid) + "/status").find("State:\tZ") ==
                      std::string::npos;
       ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(!exists("/proc/" + std::to_string(*pid) + "/status") ||
              read_text("/proc/" + std::to_string(*pid) + "/status").find("State:\tZ") !=
                  std::string::npos)
      << "the container outlived its monitor";
  EXPECT_EQ(events_.count("lost"), 1);
}

// Monitors are forked by the plugin's launcher: a launcher that dies is replaced at the next
// create, and the monitors it forked live on.
TEST_F(IsolationLinux, AKilledLauncherIsReplacedAndItsMonitorsLiveOn) {
  auto launcher_child = [] {
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string comm = read_text(e.path().string() + "/comm");
      std::istringstream status(read_text(e.path().string() + "/status"));
      std::string line;
      int ppid = 0;
      while (std::getline(status, line)) {
        if (line.rfind("PPid:", 0) == 0) ppid = std::stoi(line.substr(5));
      }
      if (ppid == ::getpid() && comm == "berth-launcher\n") return std::stoi(name);
    }
    return 0;
  };
  auto first = create("before", probe({"sleep"}));
  ASSERT_TRUE(first) << first.error().message;
  const int launcher = launcher_child();
  ASSERT_GT(launcher, 0) << "no berth-launcher child";
  ASSERT_EQ(::kill(launcher, SIGKILL), 0);
  for (int i = 0; i < 200 && read_text("/proc/" + std::to_string(launcher) + "/status")
                                     .find("State:\tZ") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(10ms);
  }
  auto second = create("after", probe({"sleep"}));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(launcher_child(), 0);
  EXPECT_NE(launcher_child(), launcher);
  for (const char* id : {"before", "after"}) {
    auto st = backend_->state(ctx_, id);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->status, sdk::TaskStatus::kCreated) << id;
    ASSERT_TRUE(backend_->start(ctx_, id, ""));
    ASSERT_TRUE(backend_->kill(ctx_, id, SIGKILL, false));
    auto exit = events_.wait(id);
    ASSERT_TRUE(exit) << id;
    EXPECT_EQ(exit->exit_code, 128 + SIGKILL);
  }
}

TEST_F(IsolationLinux, ACreateThatNeverFinishedIsCleanedUpByTheNextInstance) {
  backend_.reset();
  // What a berthd killed in the middle of create() leaves: the record and the cgroup directories.
  const std::string dir = state_dir_ + "/tasks/ghost";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  std::ofstream(dir + "/task.json")
      << R"({"id":"ghost","cgroup":")" << cgroup_parent_ << R"(/ghost","creating":true})";
  std::vector<std::string> made;
  for (const auto& root : cgroup_roots()) {
    if (root.find("unified") != std::string::npos) continue;
    if (::mkdir((root + "/" + cgroup_parent_).c_str(), 0755) != 0) continue;
    ASSERT_EQ(::mkdir((root + "/" + cgroup_parent_ + "/ghost").c_str(), 0755), 0);
    made.push_back(root + "/" + cgroup_parent_);
  }
  backend_ = make_backend();
  ASSERT_NE(backend_, nullptr);
  EXPECT_FALSE(exists(dir));
  for (const auto& m : made) {
    EXPECT_FALSE(exists(m + "/ghost")) << m;
    ::rmdir(m.c_str());  // the parent was made by this test, not recorded by the backend
  }
  auto listed = backend_->list(ctx_);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
}

// ---- measurements ---------------------------------------------------------------------------

TEST_F(IsolationLinux, MeasureMonitorRssAndCycleTime) {
  // A busy monitor: its container logs all the time, an attach client reads, an exec has run.
  auto pid = create("rss", probe({"count", "100000000", "2"}));
  ASSERT_TRUE(pid) << pid.error().message;
  int fd = attach("rss");
  ASSERT_TRUE(backend_->start(ctx_, "rss", ""));
  sdk::ExecSpec es;
  es.process_json = json::serialize(process_json(sh("echo exec")));
  ASSERT_TRUE(backend_->exec(ctx_, "rss", "e", es));
  int efd = attach("rss", "e");
  ASSERT_TRUE(backend_->start(ctx_, "rss", "e"));
  EXPECT_EQ(read_stream(efd, false).out, "exec\n");
  ::close(efd);
  ASSERT_TRUE(events_.wait("rss", "e"));
  slurp_until(fd, "never", 1000ms);
  std::string line;
  std::istringstream status(read_text("/proc/" + std::to_string(*pid) + "/status"));
  int monitor = 0;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) monitor = std::stoi(line.substr(5));
  }
  ASSERT_GT(monitor, 1);
  EXPECT_NE(read_text("/proc/" + std::to_string(monitor) + "/cmdline").find("berth-monitor"),
            std::string::npos);
  std::istringstream mstatus(read_text("/proc/" + std::to_string(monitor) + "/status"));
  long rss_kb = 0;
  while (std::getline(mstatus, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss_kb = std::stol(line.substr(6));
  }
  std::printf(
      "[ measure  ] monitor RSS (logging container, attach client, one exec run): "
      "%ld KiB\n",
      rss_kb);
  if (const char* hold = std::getenv("BERTH_TEST_HOLD_MONITOR")) {
    std::printf("[ measure  ] holding monitor %d for %s s\n", monitor, hold);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(hold)));
  }
  EXPECT_LT(rss_kb, 1024) << "monitor RSS above 1 MiB";
  ::close(fd);
  ASSERT_TRUE(backend_->kill(ctx_, "rss", SIGKILL, false));
  ASSERT_TRUE(events_.wait("rss"));
  remove("rss");

  SpecOptions t;
  t.args = {"/bin/true"};
  constexpr int kRuns = 10;
  using Ms = std::chrono::duration<double, std::milli>;
  Ms created{}, started{}, exited{};
  auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) {
    const std::string id = "cycle" + std::to_string(i);
    auto t0 = std::chrono::steady_clock::now();
    auto p = create(id, t);
    ASSERT_TRUE(p) << p.error().message;
    auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(backend_->start(ctx_, id, ""));
    auto t2 = std::chrono::steady_clock::now();
    auto exit = events_.wait(id);
    ASSERT_TRUE(exit);
    ASSERT_EQ(exit->exit_code, 0);
    created += t1 - t0;
    started += t2 - t1;
    exited += std::chrono::steady_clock::now() - t2;
  }
  auto cycle = std::chrono::steady_clock::now() - begin;
  std::printf(
      "[ measure  ] create+start+exit of true: %.1f ms on average over %d runs "
      "(create %.1f, start %.1f, exit event %.1f)\n",
      Ms(cycle).count() / kRuns, kRuns, created.count() / kRuns, started.count() / kRuns,
      exited.count() / kRuns);
  begin = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) remove("cycle" + std::to_string(i));
  std::printf(
      "[ measure  ] remove: %.1f ms on average\n",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count() /
          kRuns);
}

}  // namespace
