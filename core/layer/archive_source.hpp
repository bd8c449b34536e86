// Feeds a berth::Reader to libarchive's read callbacks, remembering the reader's own error (so it
// is reported instead of libarchive's generic one) and whether the stream reached its end.
#pragma once

#include <archive.h>

#include <memory>
#include <optional>
#include <string>

#include "core/common/io.hpp"
#include "core/common/result.hpp"

namespace berth::core::layer {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveReadFree>;

class ArchiveSource {
 public:
  // `prefix`: bytes already taken from `in` (to sniff the compression) that come first.
  explicit ArchiveSource(Reader& in, std::string prefix = {})
      : in_(in), prefix_(std::move(prefix)), buffer_(1 << 17, '\0') {}
  ArchiveSource(const ArchiveSource&) = delete;
  ArchiveSource& operator=(const ArchiveSource&) = delete;

  // archive_read_open with this source; the source must outlive `a`'s use.
  int open(archive* a) {
    return archive_read_open(a, this, nullptr, &ArchiveSource::read, nullptr);
  }

  bool at_eof() const { return eof_; }
  const std::optional<Error>& error() const { return error_; }

 private:
  static la_ssize_t read(archive* a, void* self, const void** out) {
    auto* src = static_cast<ArchiveSource*>(self);
    if (!src->prefix_.empty()) {
      src->buffer_.swap(src->prefix_);
      src->prefix_.clear();
      *out = src->buffer_.data();
      auto n = static_cast<la_ssize_t>(src->buffer_.size());
      src->pending_resize_ = true;
      return n;
    }
    if (src->pending_resize_) {
      src->buffer_.assign(1 << 17, '\0');
      src->pending_resize_ = false;
    }
    auto n = src->in_.read(src->buffer_.data(), src->buffer_.size());
    if (!n) {
      src->error_ = std::move(n).error();
      archive_set_error(a, EIO, "%s", src->error_->message.c_str());
      return -1;
    }
    if (*n == 0) src->eof_ = true;
    *out = src->buffer_.data();
    return static_cast<la_ssize_t>(*n);
  }

  Reader& in_;
  std::string prefix_;
  std::string buffer_;
  bool pending_resize_ = false;
  bool eof_ = false;
  std::optional<Error> error_;
};

}  // namespace berth::core::layer
