#include "core/store/content_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

#include "core/common/fs.hpp"
#include "core/common/ids.hpp"

namespace berth::core::store {
namespace {

namespace stdfs = std::filesystem;

constexpr mode_t kBlobMode = 0444;  // blobs are immutable once named by their digest

Error blob_error(std::string_view what, std::string_view digest, int err) {
  if (err == ENOENT) {
    return make_error(ErrorCode::kNotFound,
                      std::string(what) + " " + std::string(digest) + ": blob not found");
  }
  return errno_error(std::string(what) + " " + std::string(digest), err);
}

bool is_hex64(std::string_view name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

// ---- Ingest ----------------------------------------------------------------------------------

Ingest::Ingest(stdfs::path temp, stdfs::path blob_dir, UniqueFd fd)
    : temp_(std::move(temp)), blob_dir_(std::move(blob_dir)), fd_(std::move(fd)) {}

Ingest::Ingest(Ingest&& other) noexcept
    : temp_(std::move(other.temp_)),
      blob_dir_(std::move(other.blob_dir_)),
      fd_(std::move(other.fd_)),
      hash_(std::move(other.hash_)),
      written_(other.written_),
      done_(std::exchange(other.done_, true)) {}

Ingest& Ingest::operator=(Ingest&& other) noexcept {
  if (this != &other) {
    abort();
    temp_ = std::move(other.temp_);
    blob_dir_ = std::move(other.blob_dir_);
    fd_ = std::move(other.fd_);
    hash_ = std::move(other.hash_);
    written_ = other.written_;
    done_ = std::exchange(other.done_, true);
  }
  return *this;
}

Ingest::~Ingest() { abort(); }

void Ingest::abort() {
  if (done_) return;
  done_ = true;
  fd_.reset();
  ::unlink(temp_.c_str());
}

Status Ingest::write(std::string_view data) {
  if (done_) return make_error(ErrorCode::kFailedPrecondition, "write blob: ingest is finished");
  hash_.update(data);
  while (!data.empty()) {
    ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = errno_error("write blob " + temp_.string());
      abort();
      return err;
    }
    data.remove_prefix(static_cast<size_t>(n));
    written_ += n;
  }
  return {};
}

Result<std::string> Ingest::commit(std::optional<std::string> expected_digest,
                                   std::optional<int64_t> expected_size) {
  if (done_) return make_error(ErrorCode::kFailedPrecondition, "commit blob: ingest is finished");
  if (expected_digest && !is_valid_digest(*expected_digest)) {
    abort();
    return make_error(ErrorCode::kInvalidArgument,
                      "commit blob: invalid digest \"" + *expected_digest + "\"");
  }
  if (expected_size && *expected_size != written_) {
    abort();
    return make_error(ErrorCode::kInvalidArgument, "size mismatch: expected " +
                                                       std::to_string(*expected_size) + ", got " +
                                                       std::to_string(written_));
  }
  std::string hex = hash_.hex_digest();
  std::string digest = "sha256:" + hex;
  if (expected_digest && *expected_digest != digest) {
    abort();
    return make_error(ErrorCode::kInvalidArgument,
                      "digest mismatch: expected " + *expected_digest + ", got " + digest);
  }
  if (::fchmod(fd_.get(), kBlobMode) != 0 || ::fsync(fd_.get()) != 0) {
    auto err = errno_error("sync blob " + digest);
    abort();
    return err;
  }
  fd_.reset();
  auto target = blob_dir_ / hex;
  // NOREPLACE: an identical blob committed first (maybe by a concurrent ingest) stays in place,
  // so readers holding it never see the inode swapped under them.
  if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err != EEXIST) {
      abort();
      return errno_error("commit blob " + digest, err);
    }
    abort();
    return digest;
  }
  done_ = true;
  if (auto st = fs::fsync_dir(blob_dir_); !st) return std::move(st).error().wrap("commit blob");
  return digest;
}

// ---- ContentStore ----------------------------------------------------------------------------

ContentStore::ContentStore(stdfs::path root)
    : root_(std::move(root)),
      blob_dir_(root_ / "blobs" / "sha256"),
      ingest_dir_(root_ / "ingest") {}

Result<ContentStore> ContentStore::open(const stdfs::path& root) {
  ContentStore store(root);
  for (const auto& dir : {store.blob_dir_, store.ingest_dir_}) {
    if (auto st = fs::ensure_dir(dir, 0700); !st) {
      return std::move(st).error().wrap("open content store");
    }
  }
  // Nothing can be writing yet: whatever is in ingest/ was left by a crash.
  std::error_code ec;
  for (stdfs::directory_iterator it(store.ingest_dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (auto st = fs::remove_all(it->path()); !st) {
      return std::move(st).error().wrap("open content store: remove stale ingest");
    }
  }
  if (ec) {
    return make_error(ErrorCode::kInternal, "open content store: list " +
                                                store.ingest_dir_.string() + ": " + ec.message());
  }
  return store;
}

Result<Ingest> ContentStore::begin() const {
  auto temp = ingest_dir_ / random_hex(16);
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return errno_error("begin blob ingest: create " + temp.string());
  return Ingest(std::move(temp), blob_dir_, std::move(fd));
}

Result<std::string> ContentStore::ingest(Reader& in, std::optional<std::string> expected_digest,
                                         std::optional<int64_t> expected_size) const {
  auto ingest = begin();
  if (!ingest) return std::move(ingest).error();
  std::string buffer(1 << 16, '\0');
  for (;;) {
    auto n = in.read(buffer.data(), buffer.size());
    if (!n) return std::move(n).error().wrap("ingest blob");
    if (*n == 0) break;
    BERTH_TRY_STATUS(ingest->write(std::string_view(buffer.data(), *n)));
  }
  return ingest->commit(std::move(expected_digest), expected_size);
}

Result<std::string> ContentStore::put(std::string_view data) const {
  auto ingest = begin();
  if (!ingest) return std::move(ingest).error();
  BERTH_TRY_STATUS(ingest->write(data));
  return ingest->commit(std::nullopt, static_cast<int64_t>(data.size()));
}

Result<stdfs::path> ContentStore::path(std::string_view digest) const {
  auto hex = digest_hex(digest);
  if (!hex) return std::move(hex).error();
  return blob_dir_ / *hex;
}

Result<UniqueFd> ContentStore::open_blob(std::string_view digest) const {
  auto p = path(digest);
  if (!p) return std::move(p).error().wrap("open blob");
  UniqueFd fd(::open(p->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return blob_error("open blob", digest, errno);
  return fd;
}

Result<std::string> ContentStore::read(std::string_view digest) const {
  auto fd = open_blob(digest);
  if (!fd) return std::move(fd).error().wrap("read");
  std::string out;
  FdReader reader(fd->get());
  std::string buffer(1 << 16, '\0');
  for (;;) {
    auto n = reader.read(buffer.data(), buffer.size());
    if (!n) return std::move(n).error().wrap("read blob " + std::string(digest));
    if (*n == 0) break;
    out.append(buffer.data(), *n);
  }
  return out;
}

bool ContentStore::exists(std::string_view digest) const {
  auto p = path(digest);
  struct stat st {};
  return p && ::lstat(p->c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<int64_t> ContentStore::size(std::string_view digest) const {
  auto p = path(digest);
  if (!p) return std::move(p).error().wrap("stat blob");
  struct stat st {};
  if (::lstat(p->c_str(), &st) != 0) return blob_error("stat blob", digest, errno);
  return static_cast<int64_t>(st.st_size);
}

Status ContentStore::remove(std::string_view digest) const {
  auto p = path(digest);
  if (!p) return std::move(p).error().wrap("remove blob");
  if (::unlink(p->c_str()) != 0) return blob_error("remove blob", digest, errno);
  return fs::fsync_dir(blob_dir_);
}

Result<std::vector<std::string>> ContentStore::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (stdfs::directory_iterator it(blob_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (is_hex64(name)) out.push_back("sha256:" + name);
  }
  if (ec) {
    return make_error(ErrorCode::kInternal,
                      "list blobs: " + blob_dir_.string() + ": " + ec.message());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ContentStore::verify(std::string_view digest) const {
  auto fd = open_blob(digest);
  if (!fd) return std::move(fd).error().wrap("verify");
  Sha256 hash;
  FdReader reader(fd->get());
  std::string buffer(1 << 16, '\0');
  for (;;) {
    auto n = reader.read(buffer.data(), buffer.size());
    if (!n) return std::move(n).error().wrap("verify blob " + std::string(digest));
    if (*n == 0) break;
    hash.update(std::string_view(buffer.data(), *n));
  }
  auto actual = hash.digest();
  if (actual != digest) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "verify blob " + std::string(digest) + ": content hashes to " + actual);
  }
  return {};
}

}  // namespace berth::core::store
