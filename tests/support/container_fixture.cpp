#include "tests/support/container_fixture.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace berth::testing {

std::string probe_image_tar() {
  static std::once_flag once;
  static std::string path = build_dir() + "/tests/probe-rootfs.tar";
  std::call_once(once, [] {
    std::string probe = build_dir() + "/tests/helpers/berth-probe";
    if (fs::exists(path) && fs::last_write_time(path) >= fs::last_write_time(probe)) return;
    TempDir work("berth-probe-image");
    auto root = work.path() / "rootfs";
    auto r = run_command({"/bin/sh", source_dir() + "/tests/images/make-busybox-rootfs.sh", "--dir", root.string()});
    if (r.exit_code != 0) throw std::runtime_error("busybox rootfs: " + r.err);
    fs::create_directories(root / "usr/local/bin");
    fs::copy_file(probe, root / "usr/local/bin/berth-probe", fs::copy_options::overwrite_existing);
    // Per process: test binaries run in parallel and may all build it the first time.
    auto tmp = path + ".tmp." + std::to_string(::getpid());
    r = run_command({"/bin/tar", "--numeric-owner", "-C", root.string(), "-cf", tmp, "."});
    if (r.exit_code != 0) throw std::runtime_error("tar probe image: " + r.err);
    fs::rename(tmp, path);
  });
  return path;
}

void ContainerTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "containers need root";
  cgroup_parent_ = "berth-test-" + std::to_string(::getpid()) + "-" + dir_.path().filename().string();
  options_.isolation_backend = "linux";
  options_.config_json = R"({"plugins": {"isolation.linux": {"cgroup-parent": ")" + cgroup_parent_ +
                         R"("}}, "log-opts": {"max-size": "1m", "max-file": "2"}})";
  ASSERT_TRUE(d_.start(options_)) << d_.log();
  auto r = berth({"import", "--change", "CMD [\"sh\"]", probe_image_tar(), "busybox:local"});
  ASSERT_EQ(r.exit_code, 0) << r.err << d_.log();
}

void ContainerTest::TearDown() {
  if (::geteuid() != 0) return;
  // Leave nothing running: remove every container, then stop the daemon.
  auto ids = berth({"ps", "-aq"});
  std::istringstream in(ids.out);
  std::string id;
  while (std::getline(in, id)) {
    if (!id.empty()) (void)berth({"rm", "-f", id});
  }
  d_.stop();
}

CommandResult ContainerTest::berth(const std::vector<std::string>& args, const std::string& input) {
  return d_.berth(args, input);
}

std::string ContainerTest::ok(const std::vector<std::string>& args, const std::string& input) {
  auto r = berth(args, input);
  std::string cmd;
  for (const auto& a : args) cmd += a + " ";
  EXPECT_EQ(r.exit_code, 0) << "berth " << cmd << "\nstdout: " << r.out << "\nstderr: " << r.err;
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string ContainerTest::inspect(const std::string& name, const std::string& tmpl) {
  return ok({"inspect", "-f", tmpl, name});
}

bool ContainerTest::eventually(const std::function<bool()>& cond, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

void ContainerTest::expect_nothing_left(const std::string& id) {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mounts, line)) {
    EXPECT_EQ(line.find(id.substr(0, 12)), std::string::npos) << "mount left: " << line;
    EXPECT_EQ(line.find(d_.exec_root() + "/containers/"), std::string::npos) << "mount left: " << line;
  }
  // Our cgroups live under <hierarchy>/<cgroup parent>/<id> (v1) or <parent>/<id> (v2).
  std::error_code ec;
  std::vector<fs::path> roots = {"/sys/fs/cgroup"};
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) roots.push_back(h.path());
  for (const auto& r : roots) {
    if (fs::exists(r / cgroup_parent_ / id, ec)) ADD_FAILURE() << "cgroup left: " << (r / cgroup_parent_ / id);
  }
}

}  // namespace berth::testing
