// Integration-test support: a real berthd in a temporary data-root, exec-root and socket; the
// berth CLI and other commands run as child processes; temp dirs that unmount what is left
// under them before they go.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"

namespace berth::testing {

std::string build_dir();     // the CMake build tree (bin/, lib/berth/plugins/)
std::string source_dir();    // the repository
std::string berthd_binary();
std::string berth_binary();
// The busybox test image's rootfs tar, built once per build tree from busybox-static.
std::string busybox_tar();

// Unmounts everything at or below `path` (deepest first) and removes it.
void remove_tree(const std::filesystem::path& path);

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "berth-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with extra environment, feeding `input` on stdin.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "",
                          const std::map<std::string, std::string>& env = {},
                          int timeout_ms = 120000);

struct BerthdOptions {
  std::vector<std::string> args;      // extra flags
  std::string config_json;            // written to <root>/daemon.json and passed with --config
  std::string isolation_backend = "none";
  bool wait_ready = true;
};

class BerthdProcess {
 public:
  explicit BerthdProcess(std::filesystem::path root);
  ~BerthdProcess();  // SIGKILL if still running

  // Starts berthd; with wait_ready, returns once /_ping answers (or berthd exited: error
  // carrying its log).
  Status start(const BerthdOptions& options = {});
  // Sends `sig`, waits up to timeout_ms; returns the exit status (128+n when killed by signal n,
  // -1 on timeout).
  int stop(int sig = 15, int timeout_ms = 20000);
  // Waits for a berthd that exits on its own (startup refusal).
  int wait_exit(int timeout_ms = 20000);
  bool running() const;

  std::string log() const;
  const std::filesystem::path& root() const { return root_; }
  std::string socket() const { return (root_ / "berth.sock").string(); }
  std::string host() const { return "unix://" + socket(); }
  std::string data_root() const { return (root_ / "data").string(); }
  std::string exec_root() const { return (root_ / "exec").string(); }
  pid_t pid() const { return pid_; }
  HttpClient client() const { return HttpClient(socket()); }

  // Runs `berth -H <this daemon> args...`.
  CommandResult berth(const std::vector<std::string>& args, const std::string& input = "") const;

 private:
  std::filesystem::path root_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

}  // namespace berth::testing
