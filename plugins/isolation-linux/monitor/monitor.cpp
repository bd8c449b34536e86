// The monitor's event loop and its handlers. Over 600 lines on purpose: every handler works on
// the one Monitor state (processes, attach clients, subscribers, backpressure); what stands
// alone (setup, terminal, logs, namespaces, launcher) is in files of its own.
#include "monitor/monitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/protocol.hpp"
#include "common/sys_util.hpp"
#include "monitor/child_util.hpp"
#include "monitor/container_setup.hpp"

namespace berth::plugins::isolation {
namespace {

constexpr size_t kChunk = 32 * 1024;
constexpr size_t kHighWater = 4 * 1024 * 1024;  // per attach client, before output is paused
constexpr size_t kLowWater = 256 * 1024;
constexpr int64_t kDrainNanos = 2'000'000'000;    // output still flowing after an exit
constexpr int64_t kLingerNanos = 10'000'000'000;  // slow attach clients after the exit
constexpr int kSetupTimeoutMs = 180'000;
constexpr int kExecTimeoutMs = 30'000;
constexpr uint32_t kIn = EPOLLIN;
constexpr uint32_t kOutReady = EPOLLOUT;

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

struct Pipe {
  UniqueFd read, write;
};

sdk::Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sdk::errno_error("pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A one-way channel for a reply line: a socket pair, so read_line can take the line whole.
sdk::Result<Pipe> make_line_channel() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return sdk::errno_error("socketpair");
  }
  ::shutdown(fds[0], SHUT_WR);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

bool flag(std::string_view word) { return word == "1" || word == "true"; }

}  // namespace

sdk::Result<MonitorConfig> load_monitor_config(const std::string& task_dir, int fd) {
  auto text = read_whole_fd(fd, "the monitor's configuration");
  if (!text) return std::move(text).error();
  MonitorConfig c;
  c.task_dir = task_dir;
  for (auto line : split(*text, '\n')) {
    size_t space = line.find(' ');
    std::string_view key = line.substr(0, space);
    std::string_view value = space == std::string_view::npos ? "" : line.substr(space + 1);
    if (key == "terminal")
      c.terminal = flag(value);
    else if (key == "stdin")
      c.stdin_open = flag(value);
    else if (key == "stdin_once")
      c.stdin_once = flag(value);
    else if (key == "log_path")
      c.log_path = value;
    else if (key == "log_max_size")
      c.log_max_size = parse_int64(value).value_or(0);
    else if (key == "log_max_files")
      c.log_max_files = static_cast<int>(parse_int64(value).value_or(1));
    else if (key == "pid_namespace")
      c.pid_namespace = flag(value);
    else if (key == "procs_file")
      c.procs_file = value;
    else if (key == "kill_file")
      c.kill_file = value;
    else if (key == "oom_file")
      c.oom_file = value;
  }
  return c;
}

Monitor::Monitor(MonitorConfig config) : config_(std::move(config)) {}
Monitor::~Monitor() = default;

void Monitor::diag(const std::string& message) {
  UniqueFd fd(::open((config_.task_dir + "/" + std::string(kMonitorLog)).c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) return;
  std::string line = rfc3339_nano(now_unix_nano()) + " " + message + "\n";
  (void)write_all(fd.get(), line.data(), line.size());
}

sdk::Result<pid_t> Monitor::spawn(Proc& proc, bool stdin_open, const std::string& exec_id) {
  ProcessFds child;
  UniqueFd console_child, stdin_child, stdout_child, stderr_child;
  UniqueFd console_ours;
  if (proc.terminal) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return sdk::errno_error("socketpair");
    }
    console_ours.reset(pair[0]);
    console_child.reset(pair[1]);
    child.console = console_child.get();
  } else {
    if (stdin_open) {
      auto p = make_pipe();
      if (!p) return std::move(p).error();
      stdin_child = std::move(p->read);
      proc.in = std::move(p->write);
    } else {
      stdin_child.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!stdin_child) return sdk::errno_error("open /dev/null");
    }
    auto out = make_pipe();
    if (!out) return std::move(out).error();
    auto err = make_pipe();
    if (!err) return std::move(err).error();
    proc.out = std::move(out->read);
    stdout_child = std::move(out->write);
    proc.err = std::move(err->read);
    stderr_child = std::move(err->write);
    child.stdin_r = stdin_child.get();
    child.stdout_w = stdout_child.get();
    child.stderr_w = stderr_child.get();
  }
  auto start = make_pipe();
  if (!start) return std::move(start).error();
  auto exec_err = make_pipe();
  if (!exec_err) return std::move(exec_err).error();
  auto report = make_line_channel();
  if (!report) return std::move(report).error();
  child.start_r = start->read.get();
  child.exec_err_w = exec_err->write.get();
  child.report = report->write.get();

  child.create_config = config_.create_config_fd;
  child.seccomp = config_.seccomp_fd;

  // The setup runs right here in the forked child: no exec, the code is already mapped.
  const int container_pid = main_ ? main_->pid : 0;
  pid_t setup = ::fork();
  if (setup < 0) return sdk::errno_error("fork setup child");
  if (setup == 0) {
    ::prctl(PR_SET_NAME, "berth-setup", 0, 0, 0);
    if (exec_id.empty()) run_container_setup(child);
    run_exec_setup(config_.task_dir, exec_id, container_pid, child);
  }
  // Only the process may hold its ends: an EOF must mean the process is gone.
  console_child.reset();
  stdin_child.reset();
  stdout_child.reset();
  stderr_child.reset();
  start->read.reset();
  exec_err->write.reset();
  report->write.reset();
  proc.start = std::move(start->write);
  proc.exec_err = std::move(exec_err->read);

  // A container's rootfs may take a while to mount; an exec's setup is quick, and the loop is
  // not serving anyone meanwhile.
  auto line = read_line(report->read.get(), exec_id.empty() ? kSetupTimeoutMs : kExecTimeoutMs);
  int status = 0;
  if (line) {
    while (::waitpid(setup, &status, 0) < 0 && errno == EINTR) {
    }
  } else {
    // Never wait for it here: a child stuck in a frozen cgroup cannot die until thawed. The
    // loop reaps it whenever it goes.
    ::kill(setup, SIGKILL);
    (void)::waitpid(setup, &status, WNOHANG);
  }
  if (!line) {
    return sdk::make_error(sdk::ErrorCode::kInternal, "setup child: " + line.error().message);
  }
  auto data = parse_reply(*line);
  if (!data) return std::move(data).error();
  auto pid = parse_int64(*data);
  if (!pid || *pid <= 0) {
    return sdk::make_error(sdk::ErrorCode::kInternal, "setup child: bad answer: " + *line);
  }
  proc.pid = static_cast<pid_t>(*pid);
  if (proc.terminal) {
    auto master = recv_fd(console_ours.get(), 10000);
    if (!master) {
      ::kill(proc.pid, SIGKILL);
      return std::move(master).error().wrap("receive pty master");
    }
    proc.out = std::move(*master);
    proc.in.reset(::dup(proc.out.get()));
    ::fcntl(proc.in.get(), F_SETFD, FD_CLOEXEC);
  }
  for (UniqueFd* fd : {&proc.out, &proc.err, &proc.in, &proc.exec_err}) {
    if (fd->valid()) set_nonblocking(fd->get());
  }
  return proc.pid;
}

sdk::Result<int> Monitor::create() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sdk::errno_error("epoll_create1");
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_) return sdk::errno_error("signalfd");
  ::signal(SIGPIPE, SIG_IGN);

  if (!config_.log_path.empty()) {
    BERTH_TRY_STATUS(log_.open(config_.log_path, config_.log_max_size, config_.log_max_files));
  }
  main_ = std::make_unique<Proc>();
  main_->id = std::string(kMainExec);
  main_->terminal = config_.terminal;
  main_->stdin_once = config_.stdin_once;
  auto pid = spawn(*main_, config_.stdin_open, "");
  if (!pid) return std::move(pid).error();

  socket_path_ = config_.task_dir + "/" + std::string(kSocketName);
  auto listener = unix_listen(socket_path_);
  if (!listener) {
    ::kill(main_->pid, SIGKILL);
    return std::move(listener).error();
  }
  listen_ = std::move(*listener);
  watch(listen_.get(), Kind::kListen, nullptr, EPOLLIN);
  watch(signal_fd_.get(), Kind::kSignal, nullptr, EPOLLIN);
  if (main_->out) {
    watch(main_->out.get(), Kind::kOut, main_.get(), EPOLLIN);
    main_->out_open = true;
  }
  if (main_->err) {
    watch(main_->err.get(), Kind::kErr, main_.get(), EPOLLIN);
    main_->err_open = true;
  }
  return *pid;
}

void Monitor::watch(int fd, Kind kind, void* ptr, uint32_t events) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  entries_[fd] = Entry{kind, ptr};
}

void Monitor::rewatch(int fd, uint32_t events) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void Monitor::unwatch(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  entries_.erase(fd);
}

int Monitor::run() {
  struct epoll_event events[32];
  for (;;) {
    int64_t now = now_unix_nano();
    if (main_->finalized) {
      bool idle = conns_.empty();
      for (const auto& c : clients_) idle = idle && c->dead;
      for (const auto& s : subscribers_) idle = idle && (s->dead || s->out_buf.empty());
      if (idle || now - finished_at_ > kLingerNanos) return 0;
    }
    int n = ::epoll_wait(epoll_.get(), events, 32, next_timeout_ms(now));
    if (n < 0 && errno != EINTR) {
      diag("epoll_wait: " + errno_text(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      auto it = entries_.find(events[i].data.fd);
      if (it == entries_.end()) continue;
      Entry entry = it->second;
      switch (entry.kind) {
        case Kind::kListen:
          on_accept();
          break;
        case Kind::kSignal:
          reap();
          break;
        case Kind::kConn:
          on_conn(static_cast<Conn*>(entry.ptr));
          break;
        case Kind::kOut:
          on_output(static_cast<Proc*>(entry.ptr), 1);
          break;
        case Kind::kErr:
          on_output(static_cast<Proc*>(entry.ptr), 2);
          break;
        case Kind::kIn:
          on_stdin_writable(static_cast<Proc*>(entry.ptr));
          break;
        case Kind::kClient:
          on_client(static_cast<Client*>(entry.ptr), events[i].events);
          break;
        case Kind::kSubscriber:
          on_subscriber(static_cast<Subscriber*>(entry.ptr), events[i].events);
          break;
      }
    }
    now = now_unix_nano();
    for (auto& e : execs_) try_finalize(*e, now);
    try_finalize(*main_, now);
    sweep();
    // Execs that are over and whose clients are gone are forgotten.
    execs_.erase(std::remove_if(execs_.begin(), execs_.end(),
                                [](const std::unique_ptr<Proc>& p) {
                                  return p->finalized && p->clients.empty();
                                }),
                 execs_.end());
  }
}

int Monitor::next_timeout_ms(int64_t now) const {
  int64_t deadline = 0;
  auto consider = [&](int64_t d) {
    if (d > 0 && (deadline == 0 || d < deadline)) deadline = d;
  };
  if (main_->reaped && !main_->finalized) consider(main_->deadline);
  for (const auto& e : execs_) {
    if (e->reaped && !e->finalized) consider(e->deadline);
  }
  if (main_->finalized) consider(finished_at_ + kLingerNanos);
  if (deadline == 0) return -1;
  int64_t ms = (deadline - now) / 1'000'000 + 1;
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 60'000));
}

void Monitor::on_accept() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto conn = std::make_unique<Conn>();
    conn->fd.reset(fd);
    watch(fd, Kind::kConn, conn.get(), EPOLLIN);
    conns_.push_back(std::move(conn));
  }
}

void Monitor::on_conn(Conn* conn) {
  char buf[512];
  for (;;) {
    ssize_t n = ::read(conn->fd.get(), buf, sizeof buf);
    if (n > 0) {
      conn->buf.append(buf, static_cast<size_t>(n));
      size_t nl = conn->buf.find('\n');
      if (nl != std::string::npos) {
        std::string line = conn->buf.substr(0, nl);
        handle(conn, line);  // takes the connection over or closes it
        return;
      }
      if (conn->buf.size() > 4096) break;
      continue;
    }
    if (n < 0 && errno == EAGAIN) return;
    break;
  }
  unwatch(conn->fd.get());
  conns_.erase(
      std::find_if(conns_.begin(), conns_.end(), [&](const auto& c) { return c.get() == conn; }));
}

void Monitor::reply(int fd, const std::string& line) {
  // Answers are a few bytes on a fresh socket: they fit its buffer, so this never blocks long.
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  (void)write_all(fd, line.data(), line.size());
  ::fcntl(fd, F_SETFL, flags);
}

std::string Monitor::status_word() const {
  if (main_->finalized) return "exited";
  return main_->started ? "running" : "created";
}

Monitor::Proc* Monitor::find(const std::string& id) {
  if (id == kMainExec) return main_.get();
  for (auto& e : execs_) {
    if (e->id == id) return e.get();
  }
  return nullptr;
}

Monitor::Proc* Monitor::find_pid(pid_t pid) {
  if (main_->pid == pid) return main_.get();
  for (auto& e : execs_) {
    if (e->pid == pid) return e.get();
  }
  return nullptr;
}

void Monitor::handle(Conn* conn, const std::string& line) {
  auto words = split(line, ' ');
  const std::string verb = words.empty() ? "" : std::string(words[0]);
  const int fd = conn->fd.get();
  auto close_conn = [&]() {
    unwatch(fd);
    conns_.erase(
        std::find_if(conns_.begin(), conns_.end(), [&](const auto& c) { return c.get() == conn; }));
  };
  auto fail = [&](sdk::ErrorCode code, const std::string& message) {
    reply(fd, format_error(sdk::make_error(code, message)));
    close_conn();
  };
  Proc* proc = words.size() > 1 ? find(std::string(words[1])) : nullptr;
  const std::string target = words.size() > 1 ? std::string(words[1]) : "";
  auto missing = [&]() {
    fail(sdk::ErrorCode::kNotFound,
         target == kMainExec ? "no such process" : "exec " + target + " not found");
  };

  if (verb == "state") {
    reply(fd, "ok " + status_word() + " " + std::to_string(main_->pid) + " " +
                  std::to_string(main_->started_at) + "\n");
    close_conn();
  } else if (verb == "start" && words.size() == 2) {
    if (proc == nullptr) return missing();
    auto s = start_process(*proc);
    reply(fd, s ? std::string("ok\n") : format_error(s.error()));
    close_conn();
  } else if (verb == "kill" && words.size() == 3) {
    if (proc == nullptr) return missing();
    int sig = static_cast<int>(parse_int64(words[2]).value_or(SIGKILL));
    if (proc->reaped) {
      return fail(sdk::ErrorCode::kFailedPrecondition, "process is not running");
    }
    // A process still held before execve is pid 1 of its namespace with no handlers: only
    // SIGKILL would reach it, so any other terminating request becomes SIGKILL.
    if (!proc->started && sig != 0) sig = SIGKILL;
    if (::kill(proc->pid, sig) != 0) {
      auto e = sdk::errno_error("kill");
      return fail(e.code, e.message);
    }
    reply(fd, "ok\n");
    close_conn();
  } else if (verb == "exec" && words.size() == 5) {
    if (!valid_token(target)) return fail(sdk::ErrorCode::kInvalidArgument, "bad exec id");
    auto pid = create_exec(target, flag(words[2]), flag(words[3]), flag(words[4]));
    reply(fd, pid ? "ok " + std::to_string(*pid) + "\n" : format_error(pid.error()));
    close_conn();
  } else if (verb == "resize" && words.size() == 4) {
    if (proc == nullptr) return missing();
    if (proc->terminal && proc->out) {
      struct winsize ws {};
      ws.ws_row = static_cast<unsigned short>(parse_int64(words[2]).value_or(24));
      ws.ws_col = static_cast<unsigned short>(parse_int64(words[3]).value_or(80));
      if (::ioctl(proc->out.get(), TIOCSWINSZ, &ws) != 0) {
        auto e = sdk::errno_error("resize pty");
        return fail(e.code, e.message);
      }
    }
    reply(fd, "ok\n");
    close_conn();
  } else if (verb == "attach" && words.size() == 5) {
    if (proc == nullptr) return missing();
    if (proc->finalized) return fail(sdk::ErrorCode::kFailedPrecondition, "process has exited");
    reply(fd, "ok\n");
    auto client = std::make_unique<Client>();
    client->fd = std::move(conn->fd);
    client->proc = proc;
    client->want_in = flag(words[2]);
    client->want_out = flag(words[3]);
    client->want_err = flag(words[4]);
    client->events = EPOLLIN;
    entries_[fd] = Entry{Kind::kClient, client.get()};
    proc->clients.push_back(client.get());
    clients_.push_back(std::move(client));
    conns_.erase(
        std::find_if(conns_.begin(), conns_.end(), [&](const auto& c) { return c.get() == conn; }));
  } else if (verb == "subscribe") {
    reply(fd, "ok " + status_word() + "\n");
    auto sub = std::make_unique<Subscriber>();
    sub->fd = std::move(conn->fd);
    sub->events = EPOLLIN;
    entries_[fd] = Entry{Kind::kSubscriber, sub.get()};
    subscribers_.push_back(std::move(sub));
    conns_.erase(
        std::find_if(conns_.begin(), conns_.end(), [&](const auto& c) { return c.get() == conn; }));
  } else {
    fail(sdk::ErrorCode::kInvalidArgument, "unknown request: " + verb);
  }
}

sdk::Status Monitor::start_process(Proc& proc) {
  if (proc.started) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition, "process already started");
  }
  if (proc.reaped || !proc.start) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition, "process has exited");
  }
  if (::write(proc.start.get(), "s", 1) != 1) return sdk::errno_error("release process");
  proc.start.reset();
  proc.started = true;
  proc.started_at = now_unix_nano();
  // The verdict: EOF once execve succeeded (the pipe is close-on-exec), or why it failed.
  std::string message;
  const int64_t give_up = proc.started_at + 30'000'000'000LL;
  while (proc.exec_err) {
    int64_t left_ms = (give_up - now_unix_nano()) / 1'000'000;
    if (left_ms <= 0) break;
    struct pollfd p {
      proc.exec_err.get(), POLLIN, 0
    };
    if (::poll(&p, 1, static_cast<int>(left_ms)) <= 0) continue;
    char buf[1024];
    ssize_t n = ::read(proc.exec_err.get(), buf, sizeof buf);
    if (n > 0) {
      message.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EAGAIN) {
      break;
    }
  }
  proc.exec_err.reset();
  if (message.empty()) return {};
  size_t space = message.find(' ');
  int code = static_cast<int>(parse_int64(message.substr(0, space)).value_or(126));
  std::string text = space == std::string::npos ? message : message.substr(space + 1);
  return sdk::make_error(
      code == 127 ? sdk::ErrorCode::kInvalidArgument : sdk::ErrorCode::kPermissionDenied, text);
}

sdk::Result<int> Monitor::create_exec(const std::string& id, bool terminal, bool stdin_open,
                                      bool stdin_once) {
  if (!main_->started || main_->reaped) {
    return sdk::make_error(sdk::ErrorCode::kFailedPrecondition, "container is not running");
  }
  if (find(id) != nullptr) {
    return sdk::make_error(sdk::ErrorCode::kAlreadyExists, "exec " + id + " already exists");
  }
  auto proc = std::make_unique<Proc>();
  proc->id = id;
  proc->terminal = terminal;
  proc->stdin_once = stdin_once;
  auto pid = spawn(*proc, stdin_open, id);
  if (!pid) return std::move(pid).error();
  if (proc->out) {
    watch(proc->out.get(), Kind::kOut, proc.get(), EPOLLIN);
    proc->out_open = true;
  }
  if (proc->err) {
    watch(proc->err.get(), Kind::kErr, proc.get(), EPOLLIN);
    proc->err_open = true;
  }
  execs_.push_back(std::move(proc));
  // As at startup: the fork path and its helpers need not stay resident.
  drop_file_backed_pages();
  return *pid;
}

void Monitor::on_output(Proc* proc, int stream) {
  UniqueFd& fd = stream == 1 ? proc->out : proc->err;
  static char buf[kChunk];
  for (int round = 0; round < 8; ++round) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      dispatch(*proc, stream, buf, static_cast<size_t>(n), now_unix_nano());
      if (proc->output_paused) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    // EOF, or EIO from a pty master once every slave is closed.
    close_output(*proc, stream);
    return;
  }
}

void Monitor::close_output(Proc& proc, int stream) {
  if (stream == 1) {
    if (proc.out_open) unwatch(proc.out.get());
    proc.out_open = false;
    // A pty master doubles as the terminal's input: keep it open until the process is gone.
    if (!proc.terminal) proc.out.reset();
  } else {
    if (proc.err_open) unwatch(proc.err.get());
    proc.err_open = false;
    proc.err.reset();
  }
}

void Monitor::dispatch(Proc& proc, int stream, const char* data, size_t size, int64_t now) {
  if (&proc == main_.get() && log_.active()) log_.write(stream, std::string_view(data, size), now);
  const std::vector<Client*> clients = proc.clients;
  for (Client* c : clients) {
    if (c->dead || c->closing || !(stream == 1 ? c->want_out : c->want_err)) continue;
    if (!proc.terminal) {
      const unsigned char header[8] = {static_cast<unsigned char>(stream),
                                       0,
                                       0,
                                       0,
                                       static_cast<unsigned char>(size >> 24),
                                       static_cast<unsigned char>(size >> 16),
                                       static_cast<unsigned char>(size >> 8),
                                       static_cast<unsigned char>(size)};
      c->out_buf.append(reinterpret_cast<const char*>(header), sizeof header);
    }
    c->out_buf.append(data, size);
    flush_client(c);
  }
  update_backpressure(proc);
}

void Monitor::update_backpressure(Proc& proc) {
  size_t worst = 0;
  for (Client* c : proc.clients) {
    if (!c->dead) worst = std::max(worst, c->out_buf.size());
  }
  const bool pause = worst > kHighWater || (proc.output_paused && worst > kLowWater);
  if (pause == proc.output_paused) return;
  proc.output_paused = pause;
  const uint32_t events = pause ? 0 : kIn;
  if (proc.out_open) rewatch(proc.out.get(), events);
  if (proc.err_open) rewatch(proc.err.get(), events);
}

void Monitor::flush_client(Client* c) {
  if (c->dead) return;
  while (!c->out_buf.empty()) {
    ssize_t n = ::send(c->fd.get(), c->out_buf.data(), c->out_buf.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out_buf.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0 && errno == EINTR) continue;
    // The client went away: it no longer wants output (its stdin side may still matter, but a
    // broken socket is gone for both directions).
    drop_client(c);
    return;
  }
  if (c->out_buf.empty() && c->closing) {
    drop_client(c);
    return;
  }
  uint32_t events = (c->in_eof || c->in_paused ? 0 : kIn) | (c->out_buf.empty() ? 0 : kOutReady);
  if (events != c->events) {
    c->events = events;
    rewatch(c->fd.get(), events);
  }
  if (c->out_buf.size() < kLowWater && c->proc->output_paused) update_backpressure(*c->proc);
}

void Monitor::drop_client(Client* c) {
  if (c->dead) return;
  c->dead = true;
  c->out_buf.clear();
  unwatch(c->fd.get());
  if (c->proc->output_paused) update_backpressure(*c->proc);
}

void Monitor::drop_subscriber(Subscriber* s) {
  if (s->dead) return;
  s->dead = true;
  s->out_buf.clear();
  unwatch(s->fd.get());
}

void Monitor::sweep() {
  for (auto& c : clients_) {
    if (!c->dead) continue;
    auto& list = c->proc->clients;
    list.erase(std::remove(list.begin(), list.end(), c.get()), list.end());
  }
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                [](const std::unique_ptr<Client>& c) { return c->dead; }),
                 clients_.end());
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [](const std::unique_ptr<Subscriber>& s) { return s->dead; }),
                     subscribers_.end());
}

void Monitor::on_client(Client* c, uint32_t events) {
  if (c->dead) return;
  if ((events & EPOLLOUT) != 0) {
    flush_client(c);
    if (c->dead) return;
  }
  // HUP: the client closed both directions; ERR: the socket broke. Either way it is gone.
  if ((events & (EPOLLHUP | EPOLLERR)) != 0 && ((events & EPOLLIN) == 0 || c->in_eof)) {
    drop_client(c);
    return;
  }
  if ((events & EPOLLIN) == 0 || c->in_eof) return;
  Proc& proc = *c->proc;
  char buf[kChunk];
  ssize_t n = ::read(c->fd.get(), buf, sizeof buf);
  if (n > 0) {
    if (c->want_in && proc.in && !proc.reaped && !proc.in_close_pending) {
      proc.in_buf.append(buf, static_cast<size_t>(n));
      flush_stdin(proc);
      if (proc.in_buf.size() > kHighWater) {
        // The process does not read its stdin fast enough: stop reading this client for now.
        c->in_paused = true;
        flush_client(c);
      }
    }
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n < 0) {
    drop_client(c);
    return;
  }
  // Half-close: this client's stdin is over; output keeps flowing to it. As dockerd, a
  // terminal's input is never ended by a client leaving (a detach, Ctrl-P Ctrl-Q, half-closes):
  // the shell must still be there for the next attach. Only a pipe's StdinOnce stream ends.
  c->in_eof = true;
  flush_client(c);
  if (c->want_in && proc.stdin_once && !proc.terminal) close_stdin(proc);
}

void Monitor::flush_stdin(Proc& proc) {
  while (!proc.in_buf.empty() && proc.in) {
    ssize_t n = ::write(proc.in.get(), proc.in_buf.data(), proc.in_buf.size());
    if (n > 0) {
      proc.in_buf.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!proc.in_watch) {
        proc.in_watch.reset(::dup(proc.in.get()));
        ::fcntl(proc.in_watch.get(), F_SETFD, FD_CLOEXEC);
        watch(proc.in_watch.get(), Kind::kIn, &proc, EPOLLOUT);
      }
      return;
    }
    // EPIPE: the process closed its stdin; what is left has nowhere to go.
    proc.in_buf.clear();
    if (!proc.terminal) proc.in.reset();
    break;
  }
  if (proc.in_watch) {
    unwatch(proc.in_watch.get());
    proc.in_watch.reset();
  }
  const std::vector<Client*> clients = proc.clients;
  for (Client* c : clients) {
    if (!c->dead && c->in_paused && proc.in_buf.size() < kLowWater) {
      c->in_paused = false;
      flush_client(c);
    }
  }
  if (proc.in_buf.empty() && proc.in_close_pending) {
    proc.in_close_pending = false;
    close_stdin(proc);
  }
}

void Monitor::on_stdin_writable(Proc* proc) { flush_stdin(*proc); }

void Monitor::close_stdin(Proc& proc) {
  if (!proc.in) return;
  if (!proc.in_buf.empty()) {
    proc.in_close_pending = true;
    return;
  }
  if (proc.terminal) {
    // A pty has no half-close: end-of-file is the terminal's EOF character (^D).
    (void)::write(proc.in.get(), "\x04", 1);
  } else {
    proc.in.reset();
  }
}

void Monitor::reap() {
  struct signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof info) > 0) {
  }
  const int64_t now = now_unix_nano();
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    Proc* proc = find_pid(pid);
    if (proc == nullptr || proc->reaped) continue;  // an adopted orphan
    proc->reaped = true;
    proc->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    proc->exited_at = now;
    proc->deadline = now + kDrainNanos;
    proc->start.reset();
    if (proc->in_watch) {
      unwatch(proc->in_watch.get());
      proc->in_watch.reset();
    }
    if (!proc->terminal) proc->in.reset();
    if (proc != main_.get()) continue;
    if (!config_.oom_file.empty()) {
      if (auto text = read_file(config_.oom_file)) {
        auto count = find_key(*text, "oom_kill", ' ');
        main_->oom_killed = count && parse_int64(*count).value_or(0) > 0;
      }
    }
    // Execs never outlive the container, held or running.
    for (auto& e : execs_) {
      if (!e->reaped) ::kill(e->pid, SIGKILL);
    }
    // Without its own pid namespace nothing else kills what the container left behind.
    if (!config_.pid_namespace) {
      if (!config_.kill_file.empty() && write_existing(config_.kill_file, "1")) {
      } else if (!config_.procs_file.empty()) {
        if (auto text = read_file(config_.procs_file)) {
          for (auto word : split(*text, '\n')) {
            if (auto p = parse_int64(word)) ::kill(static_cast<pid_t>(*p), SIGKILL);
          }
        }
      }
    }
  }
}

void Monitor::try_finalize(Proc& proc, int64_t now) {
  if (!proc.reaped || proc.finalized) return;
  if ((proc.out_open || proc.err_open) && now < proc.deadline) return;
  if (&proc == main_.get()) {
    for (const auto& e : execs_) {
      if (!e->finalized && now < proc.deadline) return;
    }
  }
  if (proc.out_open) close_output(proc, 1);
  if (proc.err_open) close_output(proc, 2);
  proc.out.reset();
  proc.in.reset();
  proc.exec_err.reset();
  proc.finalized = true;
  if (&proc == main_.get()) {
    log_.flush(now);
    write_exit_file();
    // No new connections: the socket's absence tells the plugin to read the exit file.
    if (listen_) {
      unwatch(listen_.get());
      listen_.reset();
      ::unlink(socket_path_.c_str());
    }
    finished_at_ = now;
  }
  publish("exit " + proc.id + " " + std::to_string(proc.pid) + " " +
          std::to_string(proc.exit_code) + " " + (proc.oom_killed ? "1" : "0") + " " +
          std::to_string(proc.exited_at) + "\n");
  std::vector<Client*> clients = proc.clients;
  for (Client* c : clients) {
    c->closing = true;
    flush_client(c);
  }
  if (&proc == main_.get()) {
    // Subscribers get the exit line, then EOF once it is flushed.
    for (auto& s : subscribers_) flush_subscriber(s.get());
  }
}

void Monitor::write_exit_file() {
  std::string text = "pid=" + std::to_string(main_->pid) +
                     "\nexit_code=" + std::to_string(main_->exit_code) +
                     "\noom_killed=" + (main_->oom_killed ? "1" : "0") +
                     "\nstarted_at=" + std::to_string(main_->started_at) +
                     "\nexited_at=" + std::to_string(main_->exited_at) + "\n";
  if (auto s = write_file_atomic(config_.task_dir + "/" + std::string(kExitFile), text, 0644); !s) {
    diag("write exit file: " + s.error().message);
  }
}

void Monitor::publish(const std::string& line) {
  for (auto& s : subscribers_) {
    if (s->dead) continue;
    s->out_buf += line;
    flush_subscriber(s.get());
  }
}

void Monitor::flush_subscriber(Subscriber* s) {
  if (s->dead) return;
  while (!s->out_buf.empty()) {
    ssize_t n = ::send(s->fd.get(), s->out_buf.data(), s->out_buf.size(), MSG_NOSIGNAL);
    if (n > 0) {
      s->out_buf.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    drop_subscriber(s);
    return;
  }
  // Once the container's exit is out, a subscriber has nothing more coming: EOF tells it so.
  if (main_->finalized && s->out_buf.empty()) {
    drop_subscriber(s);
    return;
  }
  uint32_t events = kIn | (s->out_buf.empty() ? 0 : kOutReady);
  if (events != s->events) {
    s->events = events;
    rewatch(s->fd.get(), events);
  }
}

void Monitor::on_subscriber(Subscriber* s, uint32_t events) {
  if (s->dead) return;
  if ((events & EPOLLOUT) != 0) {
    flush_subscriber(s);
    if (s->dead) return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
    char buf[256];
    ssize_t n = ::read(s->fd.get(), buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) drop_subscriber(s);
  }
}

}  // namespace berth::plugins::isolation
