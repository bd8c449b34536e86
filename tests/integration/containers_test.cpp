// Containers end to end: a real berthd running real containers from the busybox test image,
// driven through the berth CLI (and the API where the CLI hides a detail).
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/container_fixture.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace berth::testing;

namespace {

using Containers = ContainerTest;

TEST_F(Containers, ExitCodeAndOutputPropagate) {
  auto r = berth({"run", "--rm", "busybox:local", "sh", "-c", "echo out; echo err >&2; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(ok({"ps", "-aq"}), "");  // --rm removed it
}

TEST_F(Containers, MissingCommandIsExit127WithDockersMessage) {
  auto r = berth({"run", "--rm", "busybox:local", "nosuchcmd"});
  EXPECT_EQ(r.exit_code, 127) << r.err;
  EXPECT_NE(r.err.find("executable file not found in $PATH"), std::string::npos) << r.err;
  EXPECT_TRUE(eventually([&] { return ok({"ps", "-aq"}).empty(); }));
}

TEST_F(Containers, StdinReachesTheContainer) {
  auto r = berth({"run", "--rm", "-i", "busybox:local", "sh", "-c", "tr a-z A-Z"}, "line1\nline2\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "LINE1\nLINE2\n");
}

TEST_F(Containers, DetachedLogsStopAndInspect) {
  std::string id = ok({"run", "-d", "--name", "web", "busybox:local", "sh", "-c",
                       "echo started; echo oops >&2; exec sleep 1000"});
  ASSERT_EQ(id.size(), 64u);
  EXPECT_EQ(inspect("web", "{{.State.Status}}"), "running");
  EXPECT_TRUE(eventually([&] { return berth({"logs", "web"}).out == "started\n"; }));
  auto logs = berth({"logs", "web"});
  EXPECT_EQ(logs.err, "oops\n");
  auto ts = ok({"logs", "-t", "--tail", "2", "web"});
  EXPECT_NE(ts.find("Z started"), std::string::npos) << ts;
  auto ps = ok({"ps"});
  EXPECT_NE(ps.find("web"), std::string::npos);
  EXPECT_NE(ps.find("Up "), std::string::npos) << ps;
  // sleep as pid 1 ignores SIGTERM: stop waits the timeout, then SIGKILL (137).
  auto t0 = std::chrono::steady_clock::now();
  ok({"stop", "-t", "1", "web"});
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_EQ(inspect("web", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
  auto again = berth({"stop", "web"});  // 304: not an error for the CLI
  EXPECT_EQ(again.exit_code, 0);
  ok({"rm", "web"});
  expect_nothing_left(id);
}

TEST_F(Containers, StopSignalAndTrap) {
  // A signal that comes before the trap is set would meet pid 1's default (ignore TERM, die of
  // USR1): wait for the shell to say it is ready.
  ok({"run", "-d", "--name", "trap", "busybox:local", "sh", "-c",
      "trap 'exit 42' TERM; echo ready; while true; do sleep 0.1; done"});
  ASSERT_TRUE(eventually([&] { return berth({"logs", "trap"}).out == "ready\n"; }));
  ok({"stop", "trap"});
  EXPECT_EQ(inspect("trap", "{{.State.ExitCode}}"), "42");
  ok({"run", "-d", "--name", "usr1", "busybox:local", "sh", "-c",
      "trap 'exit 10' USR1; echo ready; while true; do sleep 0.1; done"});
  ASSERT_TRUE(eventually([&] { return berth({"logs", "usr1"}).out == "ready\n"; }));
  ok({"kill", "-s", "USR1", "usr1"});
  EXPECT_TRUE(eventually([&] { return inspect("usr1", "{{.State.Status}}") == "exited"; }));
  EXPECT_EQ(inspect("usr1", "{{.State.ExitCode}}"), "10");
  auto k = berth({"kill", "usr1"});
  EXPECT_NE(k.exit_code, 0);
  EXPECT_NE(k.err.find("is not running"), std::string::npos) << k.err;
}

TEST_F(Containers, RemoveRunningNeedsForce) {
  std::string id = ok({"run", "-d", "--name", "busy", "busybox:local", "sleep", "1000"});
  auto r = berth({"rm", "busy"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("You cannot remove a running container " + id), std::string::npos) << r.err;
  ok({"rm", "-f", "busy"});
  EXPECT_EQ(ok({"ps", "-aq"}), "");
  expect_nothing_left(id);
}

TEST_F(Containers, NameConflict) {
  ok({"create", "--name", "dup", "busybox:local", "true"});
  auto r = berth({"create", "--name", "dup", "busybox:local", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("The container name \"/dup\" is already in use"), std::string::npos) << r.err;
}

TEST_F(Containers, SeesOnlyItsOwnProcessesAndMounts) {
  auto ps = ok({"run", "--rm", "busybox:local", "sh", "-c", "ps -o pid,comm | tail -n +2 | wc -l"});
  // sh, ps, tail and wc at most: nothing of the host.
  EXPECT_LE(std::stoi(ps), 4) << ps;
  auto pid1 = ok({"run", "--rm", "busybox:local", "sh", "-c", "echo $$"});
  EXPECT_EQ(pid1, "1");
  // Mount points (the second field) are the container's own; the host's are invisible. (The root
  // overlay's options name host directories, as under dockerd.)
  auto mounts = ok({"run", "--rm", "busybox:local", "cut", "-d", " ", "-f", "2", "/proc/mounts"});
  std::istringstream points(mounts);
  std::string point;
  while (std::getline(points, point)) {
    EXPECT_EQ(point.find("/work"), std::string::npos) << point;
    EXPECT_EQ(point.find("/tmp/berth"), std::string::npos) << point;
    EXPECT_EQ(point.find("/run/berth"), std::string::npos) << point;
  }
  auto hostname = ok({"run", "--rm", "--hostname", "boxy", "busybox:local", "hostname"});
  EXPECT_EQ(hostname, "boxy");
}

TEST_F(Containers, CapabilitiesAreDroppedUnlessPrivileged) {
  auto denied = berth({"run", "--rm", "busybox:local", "sh", "-c", "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t"});
  EXPECT_NE(denied.exit_code, 0);
  auto allowed = berth({"run", "--rm", "--privileged", "busybox:local", "sh", "-c",
                        "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && echo mounted"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "mounted\n");
  auto caps = ok({"run", "--rm", "busybox:local", "berth-probe", "caps"});
  auto caps_added = ok({"run", "--rm", "--cap-add", "SYS_ADMIN", "busybox:local", "berth-probe", "caps"});
  EXPECT_NE(caps, caps_added);
  auto dropped = ok({"run", "--rm", "--cap-drop", "ALL", "busybox:local", "berth-probe", "caps"});
  EXPECT_NE(dropped.find("0000000000000000"), std::string::npos) << dropped;
}

TEST_F(Containers, SeccompBlocksWhatDockersProfileBlocks) {
  auto blocked = ok({"run", "--rm", "busybox:local", "berth-probe", "syscall", "keyctl"});
  EXPECT_NE(blocked.find("EPERM"), std::string::npos) << blocked;
  auto unconfined = ok({"run", "--rm", "--security-opt", "seccomp=unconfined", "busybox:local",
                        "berth-probe", "syscall", "keyctl"});
  EXPECT_EQ(unconfined.find("EPERM"), std::string::npos) << unconfined;
}

TEST_F(Containers, MemoryLimitOomKillsAHog) {
  auto r = berth({"run", "--name", "hog", "--memory", "32m", "--memory-swap", "32m", "busybox:local",
                  "berth-probe", "alloc", "256"});
  EXPECT_EQ(r.exit_code, 137) << r.err;
  EXPECT_EQ(inspect("hog", "{{.State.OOMKilled}}"), "true");
}

TEST_F(Containers, PidsLimitStopsAForkBomb) {
  auto out = ok({"run", "--rm", "--pids-limit", "20", "busybox:local", "berth-probe", "fork-bomb", "200"});
  // The probe reports how many children it could start before fork failed.
  int started = std::stoi(out.substr(out.find_last_of(' ') + 1));
  EXPECT_LT(started, 20) << out;
}

TEST_F(Containers, UlimitAboveTheHardLimitIsRefusedClearly) {
  auto r = berth({"run", "--rm", "--ulimit", "nofile=99999999:99999999", "busybox:local", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("RLIMIT_NOFILE: hard limit 99999999 is above the current hard limit"),
            std::string::npos)
      << r.err;
  auto okr = ok({"run", "--rm", "--ulimit", "nofile=512:512", "busybox:local", "sh", "-c", "ulimit -n"});
  EXPECT_EQ(okr, "512");
}

TEST_F(Containers, UserWorkdirEnvReadOnlyTmpfs) {
  EXPECT_EQ(ok({"run", "--rm", "-u", "app", "busybox:local", "id", "-u"}), "1000");
  EXPECT_EQ(ok({"run", "--rm", "-w", "/tmp", "busybox:local", "pwd"}), "/tmp");
  EXPECT_EQ(ok({"run", "--rm", "-e", "FOO=bar", "busybox:local", "sh", "-c", "echo $FOO"}), "bar");
  auto ro = berth({"run", "--rm", "--read-only", "busybox:local", "touch", "/x"});
  EXPECT_NE(ro.exit_code, 0);
  EXPECT_EQ(ok({"run", "--rm", "--read-only", "--tmpfs", "/scratch", "busybox:local", "sh", "-c",
                "touch /scratch/x && echo ok"}),
            "ok");
}

TEST_F(Containers, ExecRunsInsideWithItsExitCode) {
  ok({"run", "-d", "--name", "ex", "busybox:local", "sleep", "1000"});
  auto r = berth({"exec", "ex", "sh", "-c", "echo in; exit 4"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.out, "in\n");
  EXPECT_EQ(ok({"exec", "-e", "X=1", "-w", "/tmp", "ex", "sh", "-c", "echo $X $(pwd)"}), "1 /tmp");
  EXPECT_EQ(ok({"exec", "-u", "app", "ex", "id", "-u"}), "1000");
  auto missing = berth({"exec", "ex", "nosuchcmd"});
  EXPECT_EQ(missing.exit_code, 126) << missing.out << missing.err;
  auto top = ok({"top", "ex"});
  EXPECT_NE(top.find("sleep 1000"), std::string::npos) << top;
  ok({"exec", "-d", "ex", "sh", "-c", "echo detached > /tmp/d"});
  EXPECT_TRUE(eventually([&] { return berth({"exec", "ex", "cat", "/tmp/d"}).out == "detached\n"; }));
}

TEST_F(Containers, PauseFreezesAndUnpauseResumes) {
  ok({"run", "-d", "--name", "paws", "busybox:local", "sh", "-c",
      "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"});
  ok({"pause", "paws"});
  EXPECT_EQ(inspect("paws", "{{.State.Status}}"), "paused");
  auto exec_paused = berth({"exec", "paws", "true"});
  EXPECT_NE(exec_paused.exit_code, 0);
  ok({"unpause", "paws"});
  auto a = ok({"exec", "paws", "cat", "/tmp/count"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto b = ok({"exec", "paws", "cat", "/tmp/count"});
  EXPECT_NE(a, b);
  auto again = berth({"unpause", "paws"});
  EXPECT_NE(again.err.find("is not paused"), std::string::npos) << again.err;
}

TEST_F(Containers, RestartPolicyRestartsWithBackoff) {
  ok({"run", "-d", "--name", "flaky", "--restart", "on-failure:3", "busybox:local", "sh", "-c", "exit 1"});
  EXPECT_TRUE(eventually([&] {
    return inspect("flaky", "{{.RestartCount}} {{.State.Status}}") == "3 exited";
  }, 20000)) << inspect("flaky", "{{.RestartCount}} {{.State.Status}}");
  ok({"run", "-d", "--name", "always", "--restart", "always", "busybox:local", "sh", "-c", "sleep 0.2"});
  EXPECT_TRUE(eventually([&] { return std::stoi(inspect("always", "{{.RestartCount}}")) >= 2; }, 20000));
  ok({"stop", "always"});
  auto count = inspect("always", "{{.RestartCount}}");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(inspect("always", "{{.RestartCount}} {{.State.Status}}"), count + " exited");
}

TEST_F(Containers, LiveRestoreAfterKillMinus9) {
  std::string id = ok({"run", "-d", "--name", "survivor", "busybox:local", "sh", "-c",
                       "echo before; while true; do sleep 0.1; done"});
  ok({"run", "-d", "--name", "leaver", "busybox:local", "sh", "-c", "sleep 1; exit 5"});
  ASSERT_EQ(d_.stop(SIGKILL), 128 + SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // leaver exits meanwhile
  ASSERT_TRUE(d_.start(options_)) << d_.log();
  EXPECT_EQ(inspect("survivor", "{{.State.Status}}"), "running");
  EXPECT_EQ(inspect("leaver", "{{.State.Status}} {{.State.ExitCode}}"), "exited 5");
  EXPECT_NE(ok({"logs", "survivor"}).find("before"), std::string::npos);
  EXPECT_EQ(ok({"exec", "survivor", "echo", "still here"}), "still here");
  ok({"stop", "-t", "1", "survivor"});
  EXPECT_EQ(inspect("survivor", "{{.State.Status}}"), "exited");
  ok({"rm", "survivor", "leaver"});
  expect_nothing_left(id);
}

// The exec-root is runtime state on a tmpfs berthd mounted (the test's is on a disk): a clean
// stop with a container running keeps it, so the next berthd adopts the container.
TEST_F(Containers, CleanStopKeepsTheExecRootTmpfsOfARunningContainer) {
  auto on_tmpfs = [&] {
    struct statfs st {};
    return ::statfs(d_.exec_root().c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
  };
  std::string id = ok({"run", "-d", "--name", "kept", "busybox:local", "sleep", "1000"});
  const bool mounted = on_tmpfs();
  ASSERT_EQ(d_.stop(SIGTERM), 0) << d_.log();
  EXPECT_EQ(on_tmpfs(), mounted);
  ASSERT_TRUE(d_.start(options_)) << d_.log();
  EXPECT_EQ(inspect("kept", "{{.State.Status}}"), "running");
  ok({"rm", "-f", "kept"});
  expect_nothing_left(id);
}

// Ranges for a made-up user in /etc/subuid and /etc/subgid for the life of a test (the files
// are left as they were, whatever else they hold).
class SubordinateIds {
 public:
  SubordinateIds(std::string user, uint32_t base) : user_(std::move(user)) {
    for (const char* f : {"/etc/subuid", "/etc/subgid"}) {
      std::ofstream(f, std::ios::app) << user_ << ":" << base << ":65536\n";
    }
  }
  ~SubordinateIds() {
    for (const char* f : {"/etc/subuid", "/etc/subgid"}) {
      std::ifstream in(f);
      std::string kept, line;
      while (std::getline(in, line)) {
        if (line.rfind(user_ + ":", 0) != 0) kept += line + "\n";
      }
      in.close();
      std::ofstream(f, std::ios::trunc) << kept;
    }
  }
  const std::string& user() const { return user_; }

 private:
  std::string user_;
};

// --userns-remap: containers' root is an unprivileged host id, the image's files still are
// root's inside, their writes are stored with host ids and come back out (cp, export, commit)
// with the container's; Docker's refusals for what a remapped container cannot have.
TEST_F(Containers, UsernsRemapMakesRootAnUnprivilegedHostUser) {
  constexpr uint32_t kBase = 500000;
  SubordinateIds ids("berth-test-remap-" + std::to_string(::getpid()), kBase);
  ASSERT_EQ(d_.stop(SIGTERM), 0) << d_.log();
  BerthdOptions remapped = options_;
  remapped.args = {"--userns-remap", ids.user()};
  ASSERT_TRUE(d_.start(remapped)) << d_.log();

  auto words = [](const std::string& text) {
    std::istringstream in(text);
    std::string w, out;
    while (in >> w) out += (out.empty() ? "" : " ") + w;
    return out;
  };
  EXPECT_EQ(words(ok({"run", "--rm", "busybox:local", "cat", "/proc/self/uid_map"})),
            "0 " + std::to_string(kBase) + " 65536");
  // The image's files are root's, root can write them, and it writes as root inside.
  EXPECT_EQ(words(ok({"run", "--rm", "busybox:local", "sh", "-c",
                      "stat -c %u /bin/busybox; echo x >> /etc/passwd && id -u; "
                      "stat -c %u /etc/hosts"})),
            "0 0 0");
  std::string id = ok({"run", "-d", "--name", "remapped", "-v", "remapvol:/data", "busybox:local",
                       "sh", "-c", "echo data > /root/f; touch /data/ok; exec sleep 1000"});
  ASSERT_TRUE(eventually(
      [&] { return berth({"exec", "remapped", "test", "-e", "/data/ok"}).exit_code == 0; }));
  std::ifstream status("/proc/" + inspect("remapped", "{{.State.Pid}}") + "/status");
  std::string line, uid_line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = words(line);
  }
  const std::string base = std::to_string(kBase);
  EXPECT_EQ(uid_line, "Uid: " + base + " " + base + " " + base + " " + base);
  struct stat st {};
  ASSERT_EQ(::stat(inspect("remapped", "{{(index .Mounts 0).Source}}").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kBase);  // a new volume is the remapped root's
  // Out of the container, owners are the container's.
  auto listing = [&](const std::vector<std::string>& cmd) {
    auto tar = berth(cmd);
    EXPECT_EQ(tar.exit_code, 0) << tar.err;
    return run_command({"/bin/tar", "--numeric-owner", "-tvf", "-"}, tar.out).out;
  };
  EXPECT_NE(listing({"cp", "remapped:/root/f", "-"}).find(" 0/0 "), std::string::npos);
  auto exported = listing({"export", "remapped"});
  auto at = exported.find("root/f");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(exported.rfind(" 0/0 ", at), std::string::npos);
  EXPECT_EQ(exported.find(base + "/"), std::string::npos) << "a host id leaked into export";
  // Into the container: the tar's owners, stored as the host's.
  ok({"cp", "-a", "/etc/hostname", "remapped:/root/in"});
  EXPECT_EQ(ok({"exec", "remapped", "stat", "-c", "%u", "/root/in"}), "0");
  ok({"commit", "remapped", "remapped:committed"});
  ok({"rm", "-f", "remapped"});
  // The committed layer holds container ids: an unremapped container sees root's file.
  EXPECT_EQ(ok({"run", "--rm", "--userns=host", "remapped:committed", "stat", "-c", "%u %s",
                "/root/f"}),
            "0 5");
  EXPECT_EQ(words(ok({"run", "--rm", "--userns=host", "busybox:local", "cat", "/proc/self/uid_map"})),
            "0 0 4294967295");
  auto priv = berth({"run", "--rm", "--privileged", "busybox:local", "true"});
  EXPECT_NE(priv.err.find("privileged mode is incompatible with user namespaces"),
            std::string::npos)
      << priv.err;
  auto host_net = berth({"run", "--rm", "--network", "host", "busybox:local", "true"});
  EXPECT_NE(host_net.err.find("cannot share the host's network namespace when user namespaces are "
                              "enabled"),
            std::string::npos)
      << host_net.err;
  EXPECT_NE(ok({"info", "--format", "{{json .SecurityOptions}}"}).find("name=userns"),
            std::string::npos);
  ok({"volume", "rm", "remapvol"});
  expect_nothing_left(id);
}

TEST_F(Containers, VolumesAndBindMounts) {
  ok({"volume", "create", "data"});
  ok({"run", "--rm", "-v", "data:/data", "busybox:local", "sh", "-c", "echo kept > /data/f"});
  EXPECT_EQ(ok({"run", "--rm", "-v", "data:/data", "busybox:local", "cat", "/data/f"}), "kept");
  auto rm = berth({"volume", "rm", "data"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  // Copy-up: a new volume on a path with image content starts with that content.
  EXPECT_NE(ok({"run", "--rm", "-v", "etcvol:/etc", "busybox:local", "cat", "/etc/hostname"}), "");
  auto host = dir_.path() / "hostdir";
  fs::create_directories(host);
  std::ofstream(host / "hello") << "from host";
  EXPECT_EQ(ok({"run", "--rm", "-v", host.string() + ":/h:ro", "busybox:local", "cat", "/h/hello"}), "from host");
  auto ro = berth({"run", "--rm", "-v", host.string() + ":/h:ro", "busybox:local", "touch", "/h/x"});
  EXPECT_NE(ro.exit_code, 0);
  ok({"run", "--rm", "--mount", "type=bind,source=" + host.string() + ",target=/h", "busybox:local",
      "sh", "-c", "echo back > /h/written"});
  EXPECT_TRUE(fs::exists(host / "written"));
  auto ls = ok({"volume", "ls", "-q"});
  EXPECT_NE(ls.find("etcvol"), std::string::npos);
}

TEST_F(Containers, CopyInAndOutAndDiffCommitExport) {
  ok({"run", "-d", "--name", "files", "busybox:local", "sleep", "1000"});
  auto host = dir_.path() / "cp";
  fs::create_directories(host);
  std::ofstream(host / "in.txt") << "copied in\n";
  ok({"cp", (host / "in.txt").string(), "files:/tmp/in.txt"});
  EXPECT_EQ(ok({"exec", "files", "cat", "/tmp/in.txt"}), "copied in");
  ok({"exec", "files", "sh", "-c", "mkdir -p /out && echo made > /out/f"});
  ok({"cp", "files:/out", (host / "out").string()});
  std::ifstream f(host / "out" / "f");
  std::string content;
  std::getline(f, content);
  EXPECT_EQ(content, "made");
  auto missing = berth({"cp", "files:/nonexistent", (host / "x").string()});
  EXPECT_NE(missing.err.find("Could not find the file /nonexistent in container files"), std::string::npos)
      << missing.err;
  auto diff = ok({"diff", "files"});
  EXPECT_NE(diff.find("A /out"), std::string::npos) << diff;
  EXPECT_NE(diff.find("/tmp/in.txt"), std::string::npos) << diff;
  std::string image = ok({"commit", "files", "cap/committed:v1"});
  EXPECT_EQ(ok({"run", "--rm", "cap/committed:v1", "cat", "/out/f"}), "made");
  auto history = ok({"history", "-q", "cap/committed:v1"});
  EXPECT_NE(history.find(image.substr(7, 12)), std::string::npos) << history;
  ok({"export", "-o", (host / "export.tar").string(), "files"});
  auto listing = run_command({"/bin/tar", "-tf", (host / "export.tar").string()});
  EXPECT_NE(listing.out.find("out/f"), std::string::npos);
  EXPECT_NE(listing.out.find("bin/busybox"), std::string::npos);
}

TEST_F(Containers, WaitStatsRenameAndPrune) {
  ok({"run", "-d", "--name", "waiter", "busybox:local", "sh", "-c", "sleep 0.3; exit 3"});
  EXPECT_EQ(ok({"wait", "waiter"}), "3");
  ok({"rename", "waiter", "waiter2"});
  EXPECT_EQ(inspect("waiter2", "{{.Name}}"), "/waiter2");
  ok({"run", "-d", "--name", "stat", "busybox:local", "sleep", "1000"});
  auto stats = ok({"stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "stat"});
  EXPECT_EQ(stats, "stat 1");
  auto pruned = ok({"container", "prune", "-f"});
  EXPECT_NE(pruned.find("Total reclaimed space"), std::string::npos);
  EXPECT_EQ(berth({"inspect", "waiter2"}).exit_code, 1);  // pruned: exited
  EXPECT_EQ(inspect("stat", "{{.State.Running}}"), "true");
}

TEST_F(Containers, ApiAnswersLikeDockerd) {
  auto c = d_.client();
  auto created = c.post("/v1.41/containers/create?name=api1",
                        R"({"Image":"busybox:local","Cmd":["sleep","1000"]})");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto start = c.post("/v1.41/containers/api1/start", "", "");
  EXPECT_EQ(start->status, 204);
  auto again = c.post("/v1.41/containers/api1/start", "", "");
  EXPECT_EQ(again->status, 304);
  auto rm = c.del("/v1.41/containers/api1");
  EXPECT_EQ(rm->status, 409);
  auto pause = c.post("/v1.41/containers/api1/pause", "", "");
  EXPECT_EQ(pause->status, 204);
  auto pause2 = c.post("/v1.41/containers/api1/pause", "", "");
  EXPECT_EQ(pause2->status, 409);
  auto start_paused = c.post("/v1.41/containers/api1/start", "", "");
  EXPECT_EQ(start_paused->status, 409);
  EXPECT_NE(start_paused->body.find("cannot start a paused container"), std::string::npos);
  auto missing_image = c.post("/v1.41/containers/create", R"({"Image":"nosuch:img"})");
  EXPECT_EQ(missing_image->status, 404);  // the CLI pulls on exactly this
  auto nosuch = c.get("/v1.41/containers/nosuch/json");
  EXPECT_EQ(nosuch->status, 404);
  EXPECT_EQ(json::parse(nosuch->body).as_object().at("message").as_string(), "No such container: nosuch");
  // wait: headers first, the body at exit.
  auto stream = c.stream({"POST", "/v1.41/containers/api1/wait?condition=next-exit"});
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->head.status, 200);
  auto kill = c.post("/v1.41/containers/api1/kill", "", "");
  EXPECT_EQ(kill->status, 204);
  auto body = stream->read_until("StatusCode", 10000);
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_NE(body->find("\"StatusCode\":137"), std::string::npos) << *body;
}

TEST_F(Containers, OneStuckContainerNeverBlocksListing) {
  ok({"run", "-d", "--name", "stuck", "busybox:local", "sleep", "1000"});
  // stop with a long timeout keeps the container's operation busy...
  std::thread stopper([&] { (void)berth({"stop", "-t", "5", "stuck"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // ...while ps and inspect answer at once.
  auto t0 = std::chrono::steady_clock::now();
  ok({"ps", "-a"});
  ok({"inspect", "stuck"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  stopper.join();
}

}  // namespace

namespace {

TEST_F(Containers, DeviceCgroupKeepsHostDevicesOut) {
  // CAP_MKNOD is in Docker's default set: the device cgroup is what keeps a container from
  // reading a host block device. A loop device over a file we wrote stands for the host's disk.
  auto backing = dir_.path() / "disk.img";
  {
    std::ofstream f(backing);
    f << "BERTHDEV";
  }
  fs::resize_file(backing, 1 << 20);
  auto attach = run_command({"/sbin/losetup", "--find", "--show", backing.string()});
  if (attach.exit_code != 0) GTEST_SKIP() << "cannot attach a loop device: " << attach.err;
  std::string loop = attach.out.substr(0, attach.out.find('\n'));
  struct Detach {
    std::string dev;
    ~Detach() { run_command({"/sbin/losetup", "-d", dev}); }
  } detach{loop};
  struct stat st {};
  ASSERT_EQ(::stat(loop.c_str(), &st), 0);
  std::string cmd = "mknod /tmp/disk b " + std::to_string(major(st.st_rdev)) + " " +
                    std::to_string(minor(st.st_rdev)) + " && head -c 8 /tmp/disk";
  auto r = berth({"run", "--rm", "busybox:local", "sh", "-c", cmd});
  EXPECT_NE(r.out, "BERTHDEV") << r.err;
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
  // Privileged containers may: the refusal above is the device cgroup, not a missing device.
  auto privileged = berth({"run", "--rm", "--privileged", "busybox:local", "sh", "-c", cmd});
  EXPECT_EQ(privileged.out, "BERTHDEV") << privileged.err;
  EXPECT_EQ(ok({"run", "--rm", "busybox:local", "sh", "-c", "head -c 4 /dev/zero | wc -c"}), "4");
}

}  // namespace

namespace {

// The list serializes each container's unchanging parts once: what changes (name, state, status
// text) must still show at every call.
TEST_F(Containers, ListReflectsRenamesAndStateChangesAfterItsFirstCall) {
  std::string id = ok({"create", "--name", "first", "-l", "k=v", "busybox:local", "sleep", "1000"});
  EXPECT_EQ(ok({"ps", "-a", "--format", "{{.Names}} {{.State}} {{.Labels}}"}), "first created k=v");
  ok({"rename", "first", "second"});
  ok({"start", "second"});
  EXPECT_EQ(ok({"ps", "--format", "{{.Names}} {{.State}}"}), "second running");
  EXPECT_NE(ok({"ps", "--format", "{{.Status}}"}).find("Up "), std::string::npos);
  ok({"kill", "second"});
  EXPECT_TRUE(eventually([&] { return ok({"ps", "-a", "--format", "{{.State}}"}) == "exited"; }));
  EXPECT_EQ(ok({"ps", "-a", "--filter", "exited=137", "-q"}), id.substr(0, 12));
  EXPECT_EQ(ok({"ps", "-a", "--filter", "label=k=v", "--filter", "name=sec", "-q"}), id.substr(0, 12));
  EXPECT_EQ(ok({"ps", "-a", "--filter", "name=first", "-q"}), "");
}

}  // namespace
