#include "monitor/child_util.hpp"

#include <linux/close_range.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation {

void reset_signals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void close_fds_except(std::vector<int> keep) {
  keep.erase(std::remove_if(keep.begin(), keep.end(), [](int fd) { return fd < 3; }), keep.end());
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) > next) ::syscall(SYS_close_range, next, fd - 1U, 0U);
    next = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, next, ~0U, 0U);
}

void drop_file_backed_pages() {
  auto maps = read_file("/proc/self/maps");
  if (!maps) return;
  for (auto line : split(*maps, '\n')) {
    // "start-end perms offset dev inode path": private, not writable, backed by a file.
    auto fields = split(line, ' ');
    if (fields.size() < 6 || fields[1].size() != 4 || fields[1][1] == 'w' || fields[1][3] != 'p' ||
        fields[5].empty() || fields[5].front() != '/') {
      continue;
    }
    auto range = split(fields[0], '-');
    if (range.size() != 2) continue;
    uint64_t start = 0, end = 0;
    std::from_chars(range[0].data(), range[0].data() + range[0].size(), start, 16);
    std::from_chars(range[1].data(), range[1].data() + range[1].size(), end, 16);
    if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
  }
}

void report_and_exit(int fd, const std::string& line, int code) {
  std::string text = line;
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  (void)write_all(fd, text.data(), text.size());
  ::_exit(code);
}

}  // namespace berth::plugins::isolation
