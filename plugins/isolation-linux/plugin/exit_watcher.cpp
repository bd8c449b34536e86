#include "plugin/exit_watcher.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation {

ExitWatcher::ExitWatcher(sdk::TaskExitSink* exits, sdk::Logger* log, LostFn on_lost)
    : exits_(exits), log_(log), on_lost_(std::move(on_lost)) {}

ExitWatcher::~ExitWatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  if (wake_) {
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

sdk::Status ExitWatcher::start() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sdk::errno_error("epoll_create1");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return sdk::errno_error("eventfd");
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = wake_.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) {
    return sdk::errno_error("epoll_ctl");
  }
  thread_ = std::thread([this] { loop(); });
  return {};
}

void ExitWatcher::add(const std::string& id, UniqueFd fd) {
  std::lock_guard lock(mu_);
  const int raw = fd.get();
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = raw;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, raw, &ev) != 0) return;
  Sub sub;
  sub.serial = next_serial_++;
  sub.id = id;
  sub.fd = std::move(fd);
  subs_.emplace(raw, std::move(sub));
}

void ExitWatcher::forget(const std::string& id) {
  std::lock_guard lock(mu_);
  for (auto it = subs_.begin(); it != subs_.end();) {
    if (it->second.id == id) {
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->first, nullptr);
      it = subs_.erase(it);
      gone_.notify_all();
    } else {
      ++it;
    }
  }
}

void ExitWatcher::emit(const ExitEvent& event) {
  if (exits_ != nullptr) exits_->task_exited(event);
}

void ExitWatcher::loop() {
  struct epoll_event events[16];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_.get()) {
        uint64_t v;
        (void)!::read(wake_.get(), &v, sizeof v);
        std::lock_guard lock(mu_);
        if (stopping_) return;
        continue;
      }
      on_readable(events[i].data.fd);
    }
  }
}

bool ExitWatcher::wait_gone(const std::string& id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return gone_.wait_for(lock, timeout, [&] {
    for (const auto& [fd, sub] : subs_) {
      if (sub.id == id) return false;
    }
    return true;
  });
}

void ExitWatcher::on_readable(int fd) {
  std::vector<ExitEvent> exits;
  std::string id;
  uint64_t serial = 0;
  bool ended = false;
  bool lost = false;
  {
    std::lock_guard lock(mu_);
    auto it = subs_.find(fd);
    if (it == subs_.end()) return;
    Sub& sub = it->second;
    id = sub.id;
    serial = sub.serial;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0) sub.buf.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = sub.buf.find('\n')) != std::string::npos) {
      std::string line = sub.buf.substr(0, nl);
      sub.buf.erase(0, nl + 1);
      auto w = split(line, ' ');
      if (w.size() != 6 || w[0] != "exit") continue;
      ExitEvent e;
      e.id = sub.id;
      e.exec_id = w[1] == "-" ? "" : std::string(w[1]);
      e.pid = static_cast<int>(parse_int64(w[2]).value_or(0));
      e.exit_code = static_cast<int>(parse_int64(w[3]).value_or(255));
      e.oom_killed = w[4] == "1";
      e.exited_at_unix_nano = parse_int64(w[5]).value_or(0);
      if (e.exec_id.empty()) sub.main_exited = true;
      exits.push_back(std::move(e));
    }
    if (n <= 0) {
      ended = true;
      lost = !sub.main_exited;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    }
  }
  // Emitted outside the lock: the host may call back into the backend from its handler.
  for (const auto& e : exits) emit(e);
  if (!ended) return;
  if (lost && on_lost_) on_lost_(id);
  {
    std::lock_guard lock(mu_);
    if (auto it = subs_.find(fd); it != subs_.end() && it->second.serial == serial) {
      subs_.erase(it);
    }
  }
  gone_.notify_all();
}

}  // namespace berth::plugins::isolation
