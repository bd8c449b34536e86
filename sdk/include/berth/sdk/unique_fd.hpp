// A file descriptor closed when it goes out of scope: the one RAII wrapper the SDK and the
// drivers share, so an early error return never leaks a descriptor into a container or a plugin.
#pragma once

#include <unistd.h>

#include <utility>

namespace berth::sdk {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = other.release();
    }
    return *this;
  }
  [[nodiscard]] int get() const { return fd_; }
  // Gives the descriptor up without closing it (to close it by hand and see close's error).
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace berth::sdk
