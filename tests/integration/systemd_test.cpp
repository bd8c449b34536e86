// berthd under systemd's protocols, without systemd as PID 1: systemd-socket-activate opens the
// API socket and starts berthd (host fd://) on the first connection, as berthd.socket does; a
// datagram socket of the test's stands in for systemd's NOTIFY_SOCKET (Type=notify).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/common/fs.hpp"
#include "tests/support/berthd_process.hpp"

namespace fs = std::filesystem;
using namespace berth::testing;

namespace {

constexpr const char* kActivate = "/usr/bin/systemd-socket-activate";

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool ok() const { return ok_; }
  // The next datagram, "" after timeout_ms.
  std::string next(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return "";
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool ok_ = false;
};

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(Systemd, SocketActivationNotifyReadyAndStopping) {
  if (::geteuid() != 0) GTEST_SKIP() << "berthd needs root";
  if (!fs::exists(kActivate)) GTEST_SKIP() << "no systemd-socket-activate (package systemd)";
  TempDir dir("berth-systemd");
  const std::string sock = (dir.path() / "api.sock").string();
  NotifySocket notify((dir.path() / "notify.sock").string());
  ASSERT_TRUE(notify.ok());
  ASSERT_TRUE(berth::fs::atomic_write(dir.path() / "daemon.json", "{}"));
  std::vector<std::string> argv = {kActivate, "-l", sock,
                                   "-E", "NOTIFY_SOCKET=" + (dir.path() / "notify.sock").string(),
                                   berthd_binary(), "--host", "fd://",
                                   "--data-root", (dir.path() / "data").string(),
                                   "--exec-root", (dir.path() / "exec").string(),
                                   "--isolation-backend", "none", "--bridge", "none",
                                   "--config", (dir.path() / "daemon.json").string()};
  const std::string log = (dir.path() / "berthd.log").string();
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  auto read_log = [&] { return berth::fs::read_file(log).value_or(""); };
  // systemd-socket-activate listens first; berthd starts on the first connection.
  for (int i = 0; i < 200 && !fs::exists(sock); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(fs::exists(sock)) << read_log();
  int early = connect_unix(sock);
  ASSERT_GE(early, 0);
  const std::string ping = "GET /_ping HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(early, ping.data(), ping.size()), static_cast<ssize_t>(ping.size()));

  auto ready = notify.next(30000);
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready << read_log();
  EXPECT_NE(ready.find("MAINPID=" + std::to_string(pid)), std::string::npos) << ready;
  // The connection made before berthd ran is answered: nothing is lost across activation.
  std::string answer;
  char buf[1024];
  for (ssize_t n; (n = ::read(early, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  ::close(early);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("OK"), std::string::npos);
  HttpClient client(sock);
  auto r = client.get("/_ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  auto stopping = notify.next(20000);
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << stopping;
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << read_log();
  // The socket belongs to systemd: berthd leaves it in place for the next activation.
  EXPECT_TRUE(fs::exists(sock));
  EXPECT_NE(read_log().find("fd://3"), std::string::npos) << read_log();
}

TEST(Systemd, FdHostWithoutActivationIsRefusedClearly) {
  if (::geteuid() != 0) GTEST_SKIP() << "berthd needs root";
  TempDir dir("berth-systemd");
  ASSERT_TRUE(berth::fs::atomic_write(dir.path() / "daemon.json", "{}"));
  auto r = run_command({berthd_binary(), "--host", "fd://", "--data-root", (dir.path() / "data").string(),
                        "--exec-root", (dir.path() / "exec").string(), "--isolation-backend", "none",
                        "--bridge", "none", "--config", (dir.path() / "daemon.json").string()},
                       "", {}, 30000);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("LISTEN_FDS"), std::string::npos) << r.err;
}

}  // namespace
