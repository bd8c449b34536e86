#include "tests/support/berthd_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/common/fs.hpp"

namespace berth::testing {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<std::string> mounts_under(const std::filesystem::path& path) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string prefix = path.string();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    // mountinfo escapes spaces as \040; test paths have none.
    if (mount_point == prefix || mount_point.rfind(prefix + "/", 0) == 0) out.push_back(mount_point);
  }
  return out;
}

}  // namespace

std::string build_dir() { return BERTH_BUILD_DIR; }
std::string source_dir() { return BERTH_SOURCE_DIR; }
std::string berthd_binary() { return build_dir() + "/bin/berthd"; }
std::string berth_binary() { return build_dir() + "/bin/berth"; }

std::string busybox_tar() {
  static std::once_flag once;
  static std::string path = build_dir() + "/tests/busybox-rootfs.tar";
  std::call_once(once, [] {
    if (std::filesystem::exists(path)) return;
    // Per process: test binaries run in parallel and may all build it the first time.
    auto tmp = path + ".tmp." + std::to_string(::getpid());
    auto r = run_command({"/bin/sh", source_dir() + "/tests/images/make-busybox-rootfs.sh", tmp});
    if (r.exit_code != 0) {
      throw std::runtime_error("cannot build the busybox test image: " + r.err);
    }
    std::filesystem::rename(tmp, path);
  });
  return path;
}

void remove_tree(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  for (int round = 0; round < 5; ++round) {
    auto mounts = mounts_under(path);
    if (mounts.empty()) break;
    std::sort(mounts.begin(), mounts.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& m : mounts) {
      if (::umount2(m.c_str(), 0) != 0) ::umount2(m.c_str(), MNT_DETACH);
    }
  }
  std::filesystem::remove_all(path, ec);
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = made;
  std::filesystem::permissions(path_, std::filesystem::perms(0755));
}

TempDir::~TempDir() { remove_tree(path_); }

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input,
                          const std::map<std::string, std::string>& env, int timeout_ms) {
  CommandResult result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = "pipe failed";
    return result;
  }
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s(*e);
    std::string key = s.substr(0, s.find('='));
    if (!env.contains(key)) env_strings.push_back(s);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::setpgid(0, 0);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  std::thread writer([fd = in_pipe[1], input] {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = ::write(fd, input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int open_count = 2;
  bool timed_out = false;
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  if (timed_out) ::kill(-pid, SIGKILL);
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  writer.join();
  result.exit_code = timed_out ? -1 : decode_status(status);
  if (timed_out) result.err += "\n[test harness: command timed out]";
  return result;
}

BerthdProcess::BerthdProcess(std::filesystem::path root) : root_(std::move(root)) {}

BerthdProcess::~BerthdProcess() {
  if (running()) stop(SIGKILL, 5000);
}

bool BerthdProcess::running() const { return pid_ > 0 && ::kill(pid_, 0) == 0 && exit_status_ < 0; }

std::string BerthdProcess::log() const {
  auto text = fs::read_file(root_ / "berthd.log");
  return text ? *text : std::string();
}

Status BerthdProcess::start(const BerthdOptions& options) {
  std::vector<std::string> argv = {berthd_binary(),
                                   "--data-root", data_root(),
                                   "--exec-root", exec_root(),
                                   "--host", host(),
                                   "--isolation-backend", options.isolation_backend,
                                   "--log-level", "debug"};
  if (!options.config_json.empty()) {
    BERTH_TRY_STATUS(fs::atomic_write(root_ / "daemon.json", options.config_json));
    argv.push_back("--config");
    argv.push_back((root_ / "daemon.json").string());
  } else {
    // Never read the machine's /etc/berth/daemon.json from a test.
    BERTH_TRY_STATUS(fs::atomic_write(root_ / "daemon.json", "{}"));
    argv.push_back("--config");
    argv.push_back((root_ / "daemon.json").string());
  }
  // No default bridge network: a test's berthd never makes bridges, veths or nftables rules in
  // the host's namespace (the networking tests run theirs in a namespace of their own).
  if (std::find(options.args.begin(), options.args.end(), "--bridge") == options.args.end()) {
    argv.insert(argv.end(), {"--bridge", "none"});
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  exit_status_ = -1;
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open((root_ / "berthd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (!options.wait_ready) return {};
  auto client = this->client();
  for (int i = 0; i < 400; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = decode_status(status);
      return make_error(ErrorCode::kUnavailable,
                        "berthd exited with " + std::to_string(exit_status_) + ":\n" + log());
    }
    if (auto r = client.get("/_ping"); r && r->status == 200) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return make_error(ErrorCode::kDeadlineExceeded, "berthd did not answer /_ping:\n" + log());
}

int BerthdProcess::wait_exit(int timeout_ms) {
  if (exit_status_ >= 0) return exit_status_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = decode_status(status);
      return exit_status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

int BerthdProcess::stop(int sig, int timeout_ms) {
  if (pid_ <= 0 || exit_status_ >= 0) return exit_status_;
  ::kill(pid_, sig);
  int r = wait_exit(timeout_ms);
  if (r < 0) {
    ::kill(pid_, SIGKILL);
    r = wait_exit(5000);
    return -1;
  }
  return r;
}

CommandResult BerthdProcess::berth(const std::vector<std::string>& args, const std::string& input) const {
  std::vector<std::string> argv = {berth_binary(), "-H", host()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, input);
}

}  // namespace berth::testing
