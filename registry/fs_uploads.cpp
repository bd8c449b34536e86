// Uploads of the filesystem storage: uploads/<id>/data grows with each chunk; committing
// verifies size and digest and renames the data into the blob store, so a blob is either
// complete and verified or not visible at all (a kill -9 leaves at most an upload directory,
// which the stale-upload sweep removes after its lifetime).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "registry/fs_storage.hpp"

namespace berth::registry {
namespace stdfs = std::filesystem;

namespace {

bool is_upload_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string new_upload_id() {
  std::string hex = random_hex(16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

Error upload_unknown(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "upload " + id + " unknown");
}

}  // namespace

class FsStorage::FileUploadWriter final : public UploadWriter {
 public:
  FileUploadWriter(FsStorage& storage, std::string id, UniqueFd fd, int64_t size,
                   std::unique_ptr<HashState> state)
      : storage_(storage), id_(std::move(id)), fd_(std::move(fd)), size_(size),
        state_(std::move(state)) {}
  ~FileUploadWriter() override { storage_.release_upload(id_, std::move(state_)); }

  const std::string& id() const override { return id_; }
  int64_t size() const override { return size_; }

  Status append(std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd_.get(), data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        state_.reset();  // the file may hold part of the chunk: hash from the file at commit
        return errno_error("write upload " + id_);
      }
      done += static_cast<size_t>(n);
    }
    // Start writeback as the data arrives, so the fsync that closes the upload waits for the
    // last few MiB only instead of the whole layer.
    unsynced_ += static_cast<int64_t>(data.size());
    if (unsynced_ >= kWritebackStep) {
      ::sync_file_range(fd_.get(), size_ + static_cast<int64_t>(data.size()) - unsynced_,
                        unsynced_, SYNC_FILE_RANGE_WRITE);
      unsynced_ = 0;
    }
    if (state_ && state_->hashed == size_) {
      state_->sha256.update(data);
      state_->hashed += static_cast<int64_t>(data.size());
    }
    size_ += static_cast<int64_t>(data.size());
    return {};
  }

  int fd() const { return fd_.get(); }
  // The running sha256 when it covers the whole upload.
  std::optional<Digest> running_sha256() {
    if (!state_ || state_->hashed != size_) return std::nullopt;
    Digest d = state_->sha256.finish();
    state_.reset();
    return d;
  }

 private:
  FsStorage& storage_;
  std::string id_;
  UniqueFd fd_;
  static constexpr int64_t kWritebackStep = 8 << 20;
  int64_t size_;
  int64_t unsynced_ = 0;
  std::unique_ptr<HashState> state_;
};

stdfs::path FsStorage::upload_dir(const std::string& id) const { return root_ / "uploads" / id; }

Result<std::string> FsStorage::start_upload(const std::string& repo) {
  std::string id = new_upload_id();
  auto dir = upload_dir(id);
  if (auto st = fs::ensure_dir(dir); !st) return std::move(st).error();
  if (auto st = fs::atomic_write(dir / "repository", repo, 0644, fs::Durability::kVolatile); !st) {
    return std::move(st).error();
  }
  UniqueFd fd(::open((dir / "data").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return errno_error("create upload " + id);
  std::lock_guard lock(uploads_mutex_);
  hash_states_[id] = std::make_unique<HashState>();
  return id;
}

Result<int64_t> FsStorage::upload_size(const std::string& repo, const std::string& id) {
  if (!is_upload_id(id)) return upload_unknown(id);
  auto owner = fs::read_file(upload_dir(id) / "repository");
  if (!owner || *owner != repo) return upload_unknown(id);
  struct stat st {};
  if (::stat((upload_dir(id) / "data").c_str(), &st) != 0) return upload_unknown(id);
  return static_cast<int64_t>(st.st_size);
}

Result<std::unique_ptr<UploadWriter>> FsStorage::open_upload(const std::string& repo,
                                                             const std::string& id) {
  auto size = upload_size(repo, id);
  if (!size) return std::move(size).error();
  std::unique_ptr<HashState> state;
  {
    std::lock_guard lock(uploads_mutex_);
    if (!busy_uploads_.insert(id).second) {
      return make_error(ErrorCode::kUnavailable,
                        "upload " + id + " is being written by another request");
    }
    if (auto it = hash_states_.find(id); it != hash_states_.end()) {
      state = std::move(it->second);
      hash_states_.erase(it);
    }
  }
  UniqueFd fd(::open((upload_dir(id) / "data").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd) {
    auto err = errno_error("open upload " + id);
    release_upload(id, std::move(state));
    return err;
  }
  // Re-read the size under the exclusive hold: another request may have appended meanwhile.
  struct stat st {};
  ::fstat(fd.get(), &st);
  return std::unique_ptr<UploadWriter>(std::make_unique<FileUploadWriter>(
      *this, id, std::move(fd), static_cast<int64_t>(st.st_size), std::move(state)));
}

void FsStorage::release_upload(const std::string& id, std::unique_ptr<HashState> state) {
  bool still_there = ::access((upload_dir(id) / "data").c_str(), F_OK) == 0;
  std::lock_guard lock(uploads_mutex_);
  busy_uploads_.erase(id);
  if (state && still_there) hash_states_[id] = std::move(state);
}

Status FsStorage::commit_upload(std::unique_ptr<UploadWriter> upload, const std::string& repo,
                                const Digest& expected, std::optional<int64_t> expected_size) {
  auto& writer = static_cast<FileUploadWriter&>(*upload);
  auto dir = upload_dir(writer.id());
  auto data = dir / "data";
  auto discard = [&] { (void)fs::remove_all(dir); };

  if (expected_size && *expected_size != writer.size()) {
    discard();
    return make_error(ErrorCode::kFailedPrecondition,
                      "upload has " + std::to_string(writer.size()) + " bytes, " +
                          std::to_string(*expected_size) + " were announced");
  }
  if (::fsync(writer.fd()) != 0) return errno_error("sync upload " + writer.id());

  std::optional<Digest> actual;
  if (expected.algorithm == "sha256") actual = writer.running_sha256();
  if (!actual) {
    auto digester = distribution::Digester::create(expected.algorithm);
    UniqueFd fd(::open(data.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno_error("read upload " + writer.id());
    std::string buffer(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error("read upload " + writer.id());
      if (n == 0) break;
      digester->update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
    actual = digester->finish();
  }
  if (*actual != expected) {
    discard();
    return make_error(ErrorCode::kInvalidArgument, "uploaded content has digest " +
                                                       actual->string() + ", not " +
                                                       expected.string());
  }
  if (auto st = install_blob(data, expected); !st) return st;
  if (auto st = link_blob(repo, expected); !st) return st;
  discard();
  return {};
}

Status FsStorage::cancel_upload(const std::string& repo, const std::string& id) {
  if (auto size = upload_size(repo, id); !size) return std::move(size).error();
  {
    std::lock_guard lock(uploads_mutex_);
    hash_states_.erase(id);
  }
  return fs::remove_all(upload_dir(id));
}

size_t FsStorage::remove_stale_uploads(std::chrono::seconds max_age) {
  size_t removed = 0;
  auto now = std::chrono::system_clock::now();
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(root_ / "uploads", ec)) {
    std::string id = entry.path().filename().string();
    struct stat st {};
    auto data = entry.path() / "data";
    // An upload dir without data is a start that died half way: its own mtime counts.
    if (::stat(data.c_str(), &st) != 0 && ::stat(entry.path().c_str(), &st) != 0) continue;
    auto modified = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    if (now - modified < max_age) continue;
    {
      std::lock_guard lock(uploads_mutex_);
      if (busy_uploads_.count(id)) continue;
      hash_states_.erase(id);
    }
    if (fs::remove_all(entry.path())) ++removed;
  }
  return removed;
}

size_t FsStorage::uploads_in_progress() {
  size_t count = 0;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(root_ / "uploads", ec); !ec && it != stdfs::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return count;
}

}  // namespace berth::registry
