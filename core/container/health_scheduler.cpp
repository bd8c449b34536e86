#include "core/container/health_scheduler.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/common/ids.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"

namespace berth::core::container {
namespace {

// How long a probe that exited may keep its output stream open (a background child holding
// it) before the result is taken without the rest.
constexpr auto kOutputGrace = std::chrono::seconds(2);

void kill_probe(const UniqueFd& pidfd) {
  if (pidfd) (void)::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
}

}  // namespace

HealthScheduler::HealthScheduler(Hooks hooks) : hooks_(std::move(hooks)) {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (epoll_ && wake_fd_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_.get();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev);
  } else {
    logging::get("health")->error("healthchecks disabled: epoll/eventfd: {}", std::strerror(errno));
  }
  // The thread starts with the first watch: a daemon without healthchecks never has it.
}

HealthScheduler::~HealthScheduler() { stop(); }

void HealthScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void HealthScheduler::wake() {
  const uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof one);
}

size_t HealthScheduler::watched() const {
  std::lock_guard lock(mutex_);
  return watches_.size();
}

void HealthScheduler::watch(const std::string& id, uint64_t generation, ProbeConfig probe,
                            int64_t first_delay_ns) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !epoll_ || !wake_fd_) return;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    auto& w = watches_[id];
    w.generation = generation;
    w.probe = std::move(probe);
    w.due = Clock::now() + std::chrono::nanoseconds(std::max<int64_t>(first_delay_ns, 0));
    w.probing = false;
  }
  wake();
}

void HealthScheduler::unwatch(const std::string& id) {
  std::lock_guard lock(mutex_);
  watches_.erase(id);
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second.container_id != id) {
      ++it;
      continue;
    }
    kill_probe(it->second.pidfd);
    if (it->second.stream) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.stream.get(), nullptr);
    it = running_.erase(it);
  }
}

bool HealthScheduler::exec_exited(const std::string& exec_id, int exit_code) {
  {
    std::lock_guard lock(mutex_);
    auto it = running_.find(exec_id);
    if (it == running_.end()) return false;
    it->second.exit_code = exit_code;
    it->second.exited_at = Clock::now();
  }
  wake();
  return true;
}

void HealthScheduler::finish(std::unique_lock<std::mutex>& lock, const std::string& exec_id,
                             ProbeResult result) {
  auto it = running_.find(exec_id);
  if (it == running_.end()) return;
  Running r = std::move(it->second);
  running_.erase(it);
  if (r.stream) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, r.stream.get(), nullptr);
  lock.unlock();
  r.stream.reset();
  r.pidfd.reset();
  auto next = hooks_.finished(r.container_id, r.generation, exec_id, std::move(result));
  lock.lock();
  auto w = watches_.find(r.container_id);
  if (w == watches_.end() || w->second.generation != r.generation) return;
  if (!next) {
    watches_.erase(w);
    return;
  }
  w->second.probing = false;
  w->second.due = Clock::now() + std::chrono::nanoseconds(*next);
}

int HealthScheduler::service(std::unique_lock<std::mutex>& lock, std::vector<Due>& due) {
  // Finished and timed-out probes first: each report releases the lock, so start over after it.
  for (bool again = true; again;) {
    again = false;
    const auto now = Clock::now();
    for (auto& [exec_id, r] : running_) {
      if (r.launching) continue;
      if (r.exit_code && (r.eof || now >= *r.exited_at + kOutputGrace)) {
        std::string id = exec_id;
        finish(lock, id, ProbeResult{r.start, now_unix_nano(), *r.exit_code, r.output.text()});
        again = true;
        break;
      }
      if (!r.exit_code && now >= r.deadline) {
        kill_probe(r.pidfd);
        std::string out = r.output.text();
        std::string message = "Health check exceeded timeout (" + go_duration(r.timeout_ns) + ")";
        if (!out.empty()) message += ": " + out;
        std::string id = exec_id;
        finish(lock, id, ProbeResult{r.start, now_unix_nano(), -1, std::move(message)});
        again = true;
        break;
      }
    }
  }
  const auto now = Clock::now();
  auto next = now + std::chrono::seconds(60);
  for (auto& [id, w] : watches_) {
    if (w.probing) continue;
    if (w.due <= now) {
      w.probing = true;
      due.push_back(Due{id, w.generation, w.probe});
    } else {
      next = std::min(next, w.due);
    }
  }
  for (const auto& [_, r] : running_) {
    if (r.launching) continue;
    next = std::min(next, r.exit_code ? *r.exited_at + kOutputGrace : r.deadline);
  }
  if (!due.empty()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 60000));
}

void HealthScheduler::launch(const Due& due) {
  const std::string exec_id = new_object_id();
  const int64_t start = now_unix_nano();
  {
    std::lock_guard lock(mutex_);
    Running placeholder;
    placeholder.container_id = due.container_id;
    placeholder.generation = due.generation;
    placeholder.start = start;
    placeholder.timeout_ns = due.probe.timeout;
    running_.emplace(exec_id, std::move(placeholder));
  }
  auto launched = hooks_.launch(due.container_id, exec_id, due.probe.argv);
  std::unique_lock lock(mutex_);
  auto it = running_.find(exec_id);
  if (it == running_.end()) {
    // Unwatched while it started: it is not wanted any more.
    if (launched) kill_probe(launched->pidfd);
    return;
  }
  if (!launched) {
    // dockerd records a probe that cannot run as exit -1 with the error as output.
    it->second.launching = false;
    finish(lock, exec_id, ProbeResult{start, now_unix_nano(), -1, launched.error().message});
    return;
  }
  Running& r = it->second;
  r.launching = false;
  r.stream = std::move(launched->stream);
  r.pidfd = std::move(launched->pidfd);
  // The timeout counts from the moment the probe runs, as dockerd's (not the exec's setup).
  r.deadline = Clock::now() + std::chrono::nanoseconds(due.probe.timeout);
  if (r.stream) {
    ::fcntl(r.stream.get(), F_SETFL, ::fcntl(r.stream.get(), F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = r.stream.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, r.stream.get(), &ev) != 0) r.eof = true;
  } else {
    r.eof = true;
  }
}

void HealthScheduler::on_readable(int fd) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const auto& e) { return e.second.stream.get() == fd; });
  if (it == running_.end()) return;
  Running& r = it->second;
  char buf[16384];
  for (int round = 0; round < 16; ++round) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      r.output.append_frames(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    r.stream.reset();
    r.eof = true;
    return;
  }
}

void HealthScheduler::loop() {
  epoll_event events[32];
  std::vector<Due> due;
  for (;;) {
    int timeout_ms;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      due.clear();
      timeout_ms = service(lock, due);
    }
    for (const auto& d : due) launch(d);
    int n = ::epoll_wait(epoll_.get(), events, 32, timeout_ms);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_fd_.get()) {
        uint64_t count;
        (void)!::read(wake_fd_.get(), &count, sizeof count);
      } else {
        on_readable(events[i].data.fd);
      }
    }
  }
}

}  // namespace berth::core::container
