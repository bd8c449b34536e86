#include "cli/client/ssh_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "cli/util/strings.hpp"

namespace berth::cli {

namespace {

// docker's connection helper adds these two: a dead host fails in 30s, and -T keeps ssh from
// allocating a terminal (which would run a login shell and mangle the byte stream).
const std::vector<std::string> kSshOptions = {"-o", "ConnectTimeout=30", "-T"};

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (const auto& dir : split(dirs, ":")) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// The ssh process behind a connection: reaped when the connection closes; its stderr (host-key
// complaints, "Permission denied", "berth: command not found") is kept for the error message.
class SshProcess : public ConnectionCompanion {
 public:
  SshProcess(pid_t pid, int stderr_fd, std::string command)
      : pid_(pid), stderr_fd_(stderr_fd), command_(std::move(command)) {}
  ~SshProcess() override { closed(); }

  void closed() override {
    if (pid_ > 0) {
      // Our end of the socketpair is closed: ssh would notice and exit on its own, but an
      // idle connection has nothing left to say; do not make the command wait for it.
      if (!reap(0)) {
        ::kill(pid_, SIGTERM);
        reap(-1);
      }
    }
    if (stderr_fd_ >= 0) {
      ::close(stderr_fd_);
      stderr_fd_ = -1;
    }
  }

  std::string explain_failure() override {
    // The stream ended early: ssh exits right after (auth failed, host key, remote command
    // missing). Give it a moment to finish printing and exiting.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (pid_ > 0 && !reap(0) && std::chrono::steady_clock::now() < deadline) {
      drain(50);
    }
    drain(0);
    std::string out = trim(stderr_);
    if (!out.empty()) out += "\n";
    out += "berth: tried to reach the daemon with `" + command_ + "`";
    if (exit_status_ >= 0)
      out += ", which exited with status " + std::to_string(exit_status_);
    else if (pid_ > 0)
      out += ", which is still running but closed the connection";
    return out;
  }

 private:
  // Waits for the process (timeout 0: just checks; -1: blocks). True once reaped.
  bool reap(int timeout) {
    if (pid_ <= 0) return true;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, timeout == 0 ? WNOHANG : 0);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      if (r == pid_)
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return true;
    }
    return false;
  }

  void drain(int timeout_ms) {
    if (stderr_fd_ < 0) return;
    pollfd p{stderr_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(stderr_fd_, buf, sizeof buf)) > 0) {
      if (stderr_.size() < 64 * 1024) stderr_.append(buf, static_cast<size_t>(n));
    }
  }

  pid_t pid_;
  int stderr_fd_;
  std::string command_;
  std::string stderr_;
  int exit_status_ = -1;
};

}  // namespace

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789/._-:=@%+,") == std::string::npos)
    return s;
  return "'" + replace_all(s, "'", "'\\''") + "'";
}

std::string ssh_remote_command(const Address& a) {
  if (a.path.empty()) return "berth system dial-stdio";
  return "berth -H " + shell_quote("unix://" + a.path) + " system dial-stdio";
}

std::vector<std::string> ssh_command(const Address& a) {
  std::vector<std::string> argv = {"ssh"};
  argv.insert(argv.end(), kSshOptions.begin(), kSshOptions.end());
  if (!a.user.empty()) argv.insert(argv.end(), {"-l", a.user});
  if (!a.port.empty()) argv.insert(argv.end(), {"-p", a.port});
  argv.insert(argv.end(), {"--", a.host, ssh_remote_command(a)});
  return argv;
}

std::unique_ptr<Connection> dial_ssh(const Address& address) {
  std::vector<std::string> argv = ssh_command(address);
  std::string shown = join(argv, " ");
  std::string exe = find_in_path("ssh");
  if (exe.empty())
    throw ConnectError("berth: cannot reach " + address.original +
                           ": no ssh command on PATH (install openssh-client)",
                       true);
  int pair[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    throw ConnectError(std::string("socketpair: ") + std::strerror(errno));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(pair[0]);
    ::close(pair[1]);
    throw ConnectError(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. Its own session, as docker does, so a
    // Ctrl-C meant for the container (berth proxies it) does not kill the transport.
    ::setsid();
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(pair[1], 0);
    ::dup2(pair[1], 1);
    ::dup2(err[1], 2);
    ::execv(exe.c_str(), cargv.data());
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(pair[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(pair[0]);
    ::close(err[0]);
    throw ConnectError(std::string("fork: ") + std::strerror(fork_errno));
  }
  ::fcntl(err[0], F_SETFL, O_NONBLOCK);
  auto ioc = std::make_unique<boost::asio::io_context>();
  Connection::Unix sock(*ioc);
  sock.assign(boost::asio::local::stream_protocol(), pair[0]);
  return Connection::from_unix(std::move(ioc), std::move(sock),
                               std::make_unique<SshProcess>(pid, err[0], shown));
}

}  // namespace berth::cli
