// Minimal byte-stream interfaces for the core's pipelines (uploads, layer tars, blobs), with
// fd- and string-backed implementations.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth {

class Reader {
 public:
  virtual ~Reader() = default;
  // Bytes read into buffer (> 0), or 0 at the end of the stream.
  virtual Result<size_t> read(char* buffer, size_t capacity) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Writes all of `data` or fails.
  virtual Status write(std::string_view data) = 0;
};

class FdReader final : public Reader {
 public:
  explicit FdReader(int fd) : fd_(fd) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    for (;;) {
      ssize_t n = ::read(fd_, buffer, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return errno_error("read");
    }
  }

 private:
  int fd_;
};

class FdWriter final : public Writer {
 public:
  explicit FdWriter(int fd) : fd_(fd) {}
  Status write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error("write");
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

 private:
  int fd_;
};

// Bytes [offset, offset + length) of a file by pread(2), so several readers can share one fd
// (length < 0: to the end of the file). A file shorter than that is an error.
class FdRangeReader final : public Reader {
 public:
  FdRangeReader(int fd, int64_t offset, int64_t length) : fd_(fd), offset_(offset), left_(length) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    if (left_ == 0) return size_t{0};
    size_t want = left_ < 0 ? capacity : static_cast<size_t>(std::min<int64_t>(left_, static_cast<int64_t>(capacity)));
    for (;;) {
      ssize_t n = ::pread(fd_, buffer, want, static_cast<off_t>(offset_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error("read");
      if (n == 0 && left_ > 0) return make_error(ErrorCode::kInternal, "read: the file is shorter than expected");
      offset_ += n;
      if (left_ > 0) left_ -= n;
      return static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  int64_t offset_;
  int64_t left_;
};

// Owns a copy of its data, so a temporary passed in cannot dangle.
class StringReader final : public Reader {
 public:
  explicit StringReader(std::string data) : owned_(std::move(data)), data_(owned_) {}
  StringReader(const StringReader&) = delete;
  StringReader& operator=(const StringReader&) = delete;
  Result<size_t> read(char* buffer, size_t capacity) override {
    size_t n = std::min(capacity, data_.size());
    data_.copy(buffer, n);
    data_.remove_prefix(n);
    return n;
  }

 private:
  std::string owned_;
  std::string_view data_;
};

class StringWriter final : public Writer {
 public:
  Status write(std::string_view data) override {
    out_.append(data);
    return {};
  }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace berth
