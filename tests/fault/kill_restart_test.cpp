// The fault suite: berthd is killed (-9) at a random moment of an operation that writes (import,
// load, run, rm, rmi, commit, cp), started again, and the data-root is checked:
//   - every image inspects and saves (its layers rebuild to their DiffIDs);
//   - the container that was running before still runs, with the same pid;
//   - nothing is stuck (no container left "removing" or "dead") once restore has finished;
//   - nothing on disk is unreferenced: every blob is an image config, every snapshot is a layer
//     in use or a container's, the layer store holds no split without a record.
// Seeded: BERTH_FAULT_SEED=<n> replays a run (the seed is printed); BERTH_FAULT_ROUNDS=<n> sets
// how many kills each operation gets (default 2, so CI stays within a few minutes).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/common/fs.hpp"
#include "tests/support/berthd_process.hpp"
#include "tests/support/container_fixture.hpp"
#include "tests/support/tar_builder.hpp"

namespace json = boost::json;
namespace stdfs = std::filesystem;
using namespace berth::testing;
using Clock = std::chrono::steady_clock;

namespace {

uint64_t seed_for_run() {
  static const uint64_t seed = [] {
    if (const char* s = std::getenv("BERTH_FAULT_SEED")) return static_cast<uint64_t>(std::strtoull(s, nullptr, 10));
    return static_cast<uint64_t>(std::random_device{}());
  }();
  return seed;
}

int rounds() {
  if (const char* s = std::getenv("BERTH_FAULT_ROUNDS")) return std::max(1, std::atoi(s));
  return 2;
}

// A berth CLI process in the background; its fate is not the test's concern (berthd dies).
class Background {
 public:
  Background(const std::string& host, std::vector<std::string> args) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      std::vector<std::string> argv = {berth_binary(), "-H", host};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> raw;
      for (auto& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      ::execv(raw[0], raw.data());
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the fault suite runs berthd as root";
    rng_.seed(seed_for_run() ^ std::hash<std::string>{}(
                                    ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::cout << "BERTH_FAULT_SEED=" << seed_for_run() << "\n";
    cgroup_parent_ = "berth-fault-" + std::to_string(::getpid()) + "-" + dir_.path().filename().string();
    options_.isolation_backend = "linux";
    options_.config_json = R"({"plugins": {"isolation.linux": {"cgroup-parent": ")" + cgroup_parent_ + R"("}}})";
    ASSERT_TRUE(d_.start(options_)) << d_.log();
    ASSERT_EQ(berth({"import", "--change", "CMD [\"sh\"]", busybox_tar(), "busybox:local"}).exit_code, 0);
    keeper_ = ok({"run", "-d", "--name", "keeper", "busybox:local", "sleep", "100000"});
    keeper_pid_ = ok({"inspect", "-f", "{{.State.Pid}}", "keeper"});
    // A 24 MiB layer to import and load: long enough to be killed in the middle of.
    std::mt19937_64 noise_rng(7);
    std::string noise(24 << 20, '\0');
    for (size_t i = 0; i + 8 <= noise.size(); i += 8) {
      uint64_t x = noise_rng();
      std::memcpy(&noise[i], &x, 8);
    }
    big_tar_ = (dir_.path() / "big.tar").string();
    ASSERT_TRUE(berth::fs::atomic_write(big_tar_, make_tar({{TarEntry::kFile, "noise", noise},
                                                            {TarEntry::kDir, "etc"},
                                                            {TarEntry::kFile, "etc/x", "y"}})));
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    if (!d_.running()) (void)d_.start(options_);
    auto ids = berth({"ps", "-aq"});
    std::istringstream in(ids.out);
    std::string id;
    while (std::getline(in, id)) {
      if (!id.empty()) (void)berth({"rm", "-f", id});
    }
    d_.stop();
    // No container process may outlive its container: a start killed half-way once left one.
    auto left = processes_in_cgroup(cgroup_parent_);
    EXPECT_TRUE(left.empty()) << left.size() << " process(es) left in " << cgroup_parent_;
    for (pid_t p : left) ::kill(p, SIGKILL);
    // Nor a cgroup: a create killed between its cgroups and its record once left one behind.
    std::error_code ec;
    for (const auto& h : stdfs::directory_iterator("/sys/fs/cgroup", ec)) {
      const auto parent = h.path() / cgroup_parent_;
      std::error_code ec2;
      for (const auto& e : stdfs::directory_iterator(parent, ec2)) {
        if (!e.is_directory()) continue;
        ADD_FAILURE() << "cgroup left: " << e.path().string();
        ::rmdir(e.path().c_str());
      }
      ::rmdir(parent.c_str());  // the daemon's parent of this test, empty by now
    }
  }

  static std::vector<pid_t> processes_in_cgroup(const std::string& name) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator("/proc", ec)) {
      std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(e.path() / "cgroup");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.find("/" + name + "/") != std::string::npos) out.push_back(std::stoi(pid));
    }
    return out;
  }

  CommandResult berth(const std::vector<std::string>& args) { return d_.berth(args); }
  // For the operations being killed: whatever happens (berthd may die under it) is fine.
  std::string attempt(const std::vector<std::string>& args) {
    std::string out = d_.berth(args).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string ok(const std::vector<std::string>& args) {
    auto r = berth(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // Starts `op`, kills berthd -9 after a random delay up to `max_delay_ms`, starts it again and
  // checks every invariant.
  void kill_during(const std::string& what, const std::function<void()>& op, int max_delay_ms) {
    for (int round = 0; round < rounds(); ++round) {
      int delay = std::uniform_int_distribution<int>(0, max_delay_ms)(rng_);
      SCOPED_TRACE(what + " round " + std::to_string(round) + " killed after " + std::to_string(delay) + " ms");
      {
        std::thread worker(op);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        d_.stop(SIGKILL);
        worker.join();
      }
      ASSERT_TRUE(d_.start(options_)) << d_.log();
      check_invariants();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  void check_invariants() {
    auto client = d_.client();
    // Nothing stuck: restore finishes interrupted removals in the background.
    bool settled = false;
    for (auto deadline = Clock::now() + std::chrono::seconds(20); Clock::now() < deadline;) {
      auto list = client.get("/containers/json?all=1");
      ASSERT_TRUE(list);
      bool busy = false;
      auto parsed = json::parse(list->body);
      for (const auto& c : parsed.as_array()) {
        auto state = std::string(c.at("State").as_string());
        busy = busy || state == "removing" || state == "dead";
      }
      if (!busy) {
        settled = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(settled) << "a container is still removing or dead after the restart";
    // The keeper lives on, the same process.
    EXPECT_EQ(ok({"inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "keeper"}), "running " + keeper_pid_);
    // Every image inspects and saves: its layers rebuild to their DiffIDs.
    auto images = client.get("/images/json");
    ASSERT_TRUE(images);
    std::set<std::string> image_ids;
    auto image_list = json::parse(images->body);
    for (const auto& img : image_list.as_array()) {
      std::string id(img.at("Id").as_string());
      image_ids.insert(id);
      auto inspect = client.get("/images/" + id + "/json");
      ASSERT_TRUE(inspect);
      EXPECT_EQ(inspect->status, 200) << id;
      auto saved = run_command({berth_binary(), "-H", d_.host(), "save", "-o",
                                (d_.root() / "check.tar").string(), id});
      EXPECT_EQ(saved.exit_code, 0) << "save " << id << ": " << saved.err;
    }
    std::filesystem::remove(d_.root() / "check.tar");
    // Nothing unreferenced: blobs are image configs...
    std::set<std::string> blobs;
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(d_.data_root() + "/content/blobs/sha256", ec)) {
      blobs.insert("sha256:" + e.path().filename().string());
    }
    EXPECT_EQ(blobs, image_ids);
    EXPECT_TRUE(stdfs::is_empty(d_.data_root() + "/content/ingest", ec));
    // ... the layer store has a record for each split and nothing half-written ...
    std::set<std::string> records, splits;
    for (const auto& e : stdfs::directory_iterator(d_.data_root() + "/image/overlay/layers", ec)) {
      std::string name = e.path().filename().string();
      EXPECT_NE(name.rfind("tmp-", 0), 0u) << name;
      if (e.path().extension() == ".json") records.insert(e.path().stem().string());
      if (e.path().extension() == ".split") splits.insert(e.path().stem().string());
    }
    for (const auto& s : splits) EXPECT_TRUE(records.contains(s)) << "split without a record: " << s;
    // ... and every snapshot is a layer in use or a container's root filesystem.
    auto containers = client.get("/containers/json?all=1");
    ASSERT_TRUE(containers);
    size_t expected = records.size() + json::parse(containers->body).as_array().size();
    size_t snapshot_dirs = 0, snapshot_records = 0;
    for (const auto& e : stdfs::directory_iterator(d_.data_root() + "/plugins/storage.overlay/snapshots", ec)) {
      (void)e;
      ++snapshot_dirs;
    }
    for (const auto& e : stdfs::directory_iterator(d_.data_root() + "/plugins/storage.overlay/metadata", ec)) {
      if (e.path().extension() == ".json") ++snapshot_records;
    }
    EXPECT_EQ(snapshot_records, expected) << "snapshot records vs layers + containers";
    EXPECT_EQ(snapshot_dirs, expected) << "snapshot directories vs layers + containers";
  }

  TempDir dir_{"berth-fault"};
  BerthdProcess d_{dir_.path()};
  BerthdOptions options_;
  std::string cgroup_parent_;
  std::string keeper_, keeper_pid_;
  std::string big_tar_;
  std::mt19937 rng_;
};

TEST_F(FaultTest, KillDuringImport) {
  kill_during("import", [&] { Background b(d_.host(), {"import", big_tar_, "big:1"}); std::this_thread::sleep_for(std::chrono::milliseconds(1500)); }, 600);
}

TEST_F(FaultTest, KillDuringLoad) {
  ASSERT_EQ(berth({"import", big_tar_, "big:1"}).exit_code, 0);
  std::string archive = (dir_.path() / "saved.tar").string();
  ASSERT_EQ(berth({"save", "-o", archive, "big:1"}).exit_code, 0);
  ASSERT_EQ(berth({"rmi", "big:1"}).exit_code, 0);
  kill_during("load", [&] { Background b(d_.host(), {"load", "-i", archive}); std::this_thread::sleep_for(std::chrono::milliseconds(1500)); }, 600);
}

TEST_F(FaultTest, KillDuringRun) {
  kill_during("run", [&] {
    std::vector<std::unique_ptr<Background>> runs;
    for (int i = 0; i < 4; ++i) {
      runs.push_back(std::make_unique<Background>(d_.host(), std::vector<std::string>{"run", "-d", "busybox:local", "sleep", "1000"}));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }, 300);
}

TEST_F(FaultTest, KillDuringParallelForcedRemoval) {
  kill_during("rm -f", [&] {
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(attempt({"run", "-d", "busybox:local", "sleep", "1000"}));
    std::vector<std::unique_ptr<Background>> rms;
    for (const auto& id : ids) rms.push_back(std::make_unique<Background>(d_.host(), std::vector<std::string>{"rm", "-f", id}));
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }, 700);
}

TEST_F(FaultTest, KillDuringRmi) {
  kill_during("rmi", [&] {
    attempt({"import", big_tar_, "big:1"});
    Background b(d_.host(), {"rmi", "big:1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
  }, 1200);
}

TEST_F(FaultTest, KillDuringCommit) {
  kill_during("commit", [&] {
    std::string id = attempt({"run", "-d", "busybox:local", "sh", "-c", "dd if=/dev/urandom of=/data bs=1M count=16 2>/dev/null; sleep 1000"});
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    Background b(d_.host(), {"commit", id, "committed:1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }, 1800);
}

TEST_F(FaultTest, KillDuringCp) {
  kill_during("cp", [&] {
    std::string id = attempt({"create", "busybox:local"});
    Background b(d_.host(), {"cp", big_tar_, id + ":/tmp/"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }, 400);
}

}  // namespace
