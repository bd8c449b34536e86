#include "core/image/blob_download.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "core/common/sha256.hpp"

namespace berth::core::image {
namespace {

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("write download spool");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

class BlobDownload::GrowingReader final : public Reader {
 public:
  GrowingReader(BlobDownload& owner, int fd) : owner_(owner), fd_(fd) {}
  ~GrowingReader() override { ::close(fd_); }
  Result<size_t> read(char* buffer, size_t capacity) override {
    {
      std::unique_lock lock(owner_.mutex_);
      owner_.changed_.wait(lock, [&] {
        return owner_.done_ || owner_.cancelled_ || (owner_.started_ && owner_.written_ > position_);
      });
      if (owner_.cancelled_ && !owner_.done_) {
        return make_error(ErrorCode::kCancelled, "download of " + owner_.blob_.digest + " cancelled");
      }
      if (owner_.done_ && !owner_.result_) return owner_.result_.error();
      if (owner_.written_ <= position_) return size_t{0};
      capacity = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(capacity),
                                                       owner_.written_ - position_));
    }
    for (;;) {
      ssize_t n = ::pread(fd_, buffer, capacity, position_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error("read download spool");
      position_ += n;
      return static_cast<size_t>(n);
    }
  }

 private:
  BlobDownload& owner_;
  int fd_;
  int64_t position_ = 0;
};

BlobDownload::BlobDownload(std::filesystem::path partial, sdk::Descriptor blob)
    : partial_(std::move(partial)), blob_(std::move(blob)) {}

Status BlobDownload::run(sdk::RegistryTransport& transport, sdk::Context& ctx,
                         const sdk::RepoRef& repo,
                         const std::function<void(int64_t, int64_t)>& progress) {
  auto finish = [&](Status s) -> Status {
    std::lock_guard lock(mutex_);
    done_ = true;
    result_ = s;
    changed_.notify_all();
    return s;
  };
  FdGuard fd(::open(partial_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return finish(errno_error("open " + partial_.string()));
  // What an earlier, interrupted pull left: hash it again and continue after it.
  Sha256 hash;
  int64_t have = 0;
  {
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return finish(errno_error("read " + partial_.string()));
      if (n == 0) break;
      hash.update(std::string_view(buf.data(), static_cast<size_t>(n)));
      have += n;
    }
  }
  if (have > blob_.size) {
    (void)::ftruncate(fd.get(), 0);
    (void)::lseek(fd.get(), 0, SEEK_SET);
    hash = Sha256();
    have = 0;
  }
  {
    std::lock_guard lock(mutex_);
    written_ = have;
    resumed_from_ = have;
    started_ = true;
    changed_.notify_all();
  }
  class Sink final : public sdk::ByteSink {
   public:
    Sink(BlobDownload& d, int fd, Sha256& h, const std::function<void(int64_t, int64_t)>& p)
        : d_(d), fd_(fd), h_(h), p_(p) {}
    sdk::Status write(std::string_view data) override {
      if (d_.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
      int64_t now;
      {
        std::lock_guard lock(d_.mutex_);
        now = d_.written_;
      }
      if (now + static_cast<int64_t>(data.size()) > d_.blob_.size) {
        return make_error(ErrorCode::kInvalidArgument,
                          "the registry sent more than the " + std::to_string(d_.blob_.size) +
                              " bytes the manifest gives " + d_.blob_.digest);
      }
      BERTH_TRY_STATUS(write_all(fd_, data));
      h_.update(data);
      {
        std::lock_guard lock(d_.mutex_);
        d_.written_ += static_cast<int64_t>(data.size());
        now = d_.written_;
        d_.changed_.notify_all();
      }
      if (p_) p_(now, d_.blob_.size);
      return {};
    }

   private:
    BlobDownload& d_;
    int fd_;
    Sha256& h_;
    const std::function<void(int64_t, int64_t)>& p_;
  } sink(*this, fd.get(), hash, progress);
  if (have < blob_.size) {
    auto s = transport.fetch_blob(ctx, repo, blob_, static_cast<uint64_t>(have), sink);
    if (!s) return finish(s.error());
  }
  int64_t total;
  {
    std::lock_guard lock(mutex_);
    total = written_;
  }
  std::string digest = hash.digest();
  if (total != blob_.size || digest != blob_.digest) {
    std::error_code ec;
    std::filesystem::remove(partial_, ec);
    return finish(make_error(ErrorCode::kInvalidArgument,
                             "blob " + blob_.digest + " failed verification: got " +
                                 std::to_string(total) + " bytes with digest " + digest +
                                 ", the manifest says " + std::to_string(blob_.size) + " bytes"));
  }
  return finish({});
}

std::unique_ptr<Reader> BlobDownload::open_reader() {
  // The spool file exists once run() started; wait for that.
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return started_ || done_ || cancelled_; });
  }
  int fd = ::open(partial_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return std::make_unique<GrowingReader>(*this, fd);
}

Status BlobDownload::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return done_; });
  return result_;
}

void BlobDownload::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  changed_.notify_all();
}

bool BlobDownload::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

void BlobDownload::discard() {
  std::error_code ec;
  std::filesystem::remove(partial_, ec);
}

std::shared_ptr<BlobDownload> BlobDownloads::get(const sdk::Descriptor& blob, bool& created) {
  std::lock_guard lock(mutex_);
  if (auto existing = active_[blob.digest].lock()) {
    created = false;
    return existing;
  }
  std::string hex = blob.digest.substr(blob.digest.find(':') + 1);
  auto d = std::make_shared<BlobDownload>(dir_ / (hex + ".partial"), blob);
  active_[blob.digest] = d;
  created = true;
  return d;
}

void BlobDownloads::release(const std::string& digest) {
  std::lock_guard lock(mutex_);
  if (auto it = active_.find(digest); it != active_.end() && it->second.expired()) active_.erase(it);
}

}  // namespace berth::core::image
