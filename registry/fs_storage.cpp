#include "registry/fs_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "core/common/fs.hpp"
#include "core/common/json_text.hpp"
#include "distribution/manifest.hpp"

namespace berth::registry {
namespace stdfs = std::filesystem;
namespace json = boost::json;

namespace {

bool path_exists(const stdfs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Creates an empty link file; an existing one is fine.
Status touch(const stdfs::path& path) {
  if (auto st = fs::ensure_dir(path.parent_path()); !st) return st;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return errno_error("create " + path.string());
  return {};
}

std::vector<std::string> sorted_entries(const stdfs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] != '.') out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

FsStorage::FsStorage(stdfs::path root) : root_(root), guard_(root) {}

Result<std::unique_ptr<FsStorage>> FsStorage::open(const stdfs::path& root) {
  for (const char* sub : {"blobs", "repositories", "uploads"}) {
    if (auto st = fs::ensure_dir(root / sub); !st) {
      return std::move(st).error().wrap("prepare storage root " + root.string() +
                                        " (pick a writable directory with --root)");
    }
  }
  return std::unique_ptr<FsStorage>(new FsStorage(root));
}

stdfs::path FsStorage::blob_path(const Digest& d) const {
  return root_ / "blobs" / d.algorithm / d.hex.substr(0, 2) / d.hex;
}
stdfs::path FsStorage::repo_dir(const std::string& repo) const {
  return root_ / "repositories" / repo;
}
stdfs::path FsStorage::layer_link(const std::string& repo, const Digest& d) const {
  return repo_dir(repo) / "_layers" / d.algorithm / d.hex;
}
stdfs::path FsStorage::revision_link(const std::string& repo, const Digest& d) const {
  return repo_dir(repo) / "_manifests" / "revisions" / d.algorithm / d.hex;
}
stdfs::path FsStorage::tag_file(const std::string& repo, const std::string& tag) const {
  return repo_dir(repo) / "_manifests" / "tags" / tag;
}
stdfs::path FsStorage::referrers_dir(const std::string& repo, const Digest& subject) const {
  return repo_dir(repo) / "_referrers" / subject.algorithm / subject.hex;
}

std::optional<int64_t> FsStorage::blob_size(const Digest& digest) {
  struct stat st {};
  if (::stat(blob_path(digest).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<int64_t>(st.st_size);
}

Result<UniqueFd> FsStorage::open_blob(const Digest& digest) {
  auto path = blob_path(digest);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error("open blob " + digest.string());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error("stat blob " + digest.string());
  std::string key = digest.string();
  {
    std::lock_guard lock(verified_mutex_);
    auto it = verified_.find(key);
    if (it != verified_.end() && it->second.tv_sec == st.st_ctim.tv_sec &&
        it->second.tv_nsec == st.st_ctim.tv_nsec) {
      return fd;
    }
  }
  auto digester = distribution::Digester::create(digest.algorithm);
  std::string buffer(1 << 20, '\0');
  for (off_t offset = 0;;) {
    ssize_t n = ::pread(fd.get(), buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("read blob " + key);
    if (n == 0) break;
    digester->update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    offset += n;
  }
  if (digester->finish() != digest) {
    // Moved aside, not deleted: someone may want to look at it.
    auto quarantine = root_ / "quarantine";
    (void)fs::ensure_dir(quarantine);
    ::rename(path.c_str(), (quarantine / (digest.algorithm + "-" + digest.hex)).c_str());
    return make_error(ErrorCode::kNotFound, "blob " + key + " is corrupted on disk (moved to " +
                                                quarantine.string() + "); push it again");
  }
  std::lock_guard lock(verified_mutex_);
  // Bounded memory (about 150 bytes an entry): past the bound, blobs are simply hashed again.
  if (verified_.size() >= 200000) verified_.clear();
  verified_[key] = st.st_ctim;
  return fd;
}

bool FsStorage::touch_blob(const Digest& digest) {
  // utimensat(NULL): mtime and atime to now; ENOENT when the blob is not there.
  return ::utimensat(AT_FDCWD, blob_path(digest).c_str(), nullptr, 0) == 0;
}

std::shared_ptr<void> FsStorage::protect_blobs() {
  return std::make_shared<BlobGuard::Hold>(guard_.shared());
}

bool FsStorage::repository_exists(const std::string& repo) { return path_exists(repo_dir(repo)); }

bool FsStorage::has_blob_link(const std::string& repo, const Digest& digest) {
  return path_exists(layer_link(repo, digest)) && blob_size(digest).has_value();
}

Status FsStorage::link_blob(const std::string& repo, const Digest& digest) {
  return touch(layer_link(repo, digest));
}

Status FsStorage::unlink_blob(const std::string& repo, const Digest& digest) {
  auto link = layer_link(repo, digest);
  if (::unlink(link.c_str()) != 0) return errno_error("remove blob link " + digest.string());
  return {};
}

Status FsStorage::store_blob(const Digest& digest, std::string_view data) {
  auto path = blob_path(digest);
  if (touch_blob(digest)) return {};
  if (auto st = fs::ensure_dir(path.parent_path()); !st) return st;
  return fs::atomic_write(path, data, 0444);
}

Status FsStorage::install_blob(const stdfs::path& file, const Digest& digest) {
  auto path = blob_path(digest);
  if (auto st = fs::ensure_dir(path.parent_path()); !st) return st;
  // Under the guard, and touched: an upload idle for longer than the GC grace period keeps its
  // old mtime through the rename, and a copy already there may be about to be collected.
  BlobGuard::Hold hold = guard_.shared();
  if (touch_blob(digest)) return {};  // the same content is already there: keep that copy
  ::fchmodat(AT_FDCWD, file.c_str(), 0444, 0);
  if (::rename(file.c_str(), path.c_str()) != 0) {
    return errno_error("move upload into " + path.string());
  }
  touch_blob(digest);
  return fs::fsync_dir(path.parent_path());
}

Status FsStorage::put_manifest(const std::string& repo, const StoredManifest& manifest,
                               const std::string& tag, const std::optional<Digest>& subject,
                               const json::object& referrer_descriptor) {
  if (auto st = store_blob(manifest.digest, manifest.content); !st) return st;
  auto revision = revision_link(repo, manifest.digest);
  if (auto st = fs::ensure_dir(revision.parent_path()); !st) return st;
  if (auto st = fs::write_if_changed(revision, manifest.media_type); !st) return st;
  // A re-push restarts the revision's age: GC of untagged manifests keeps it its grace period.
  ::utimensat(AT_FDCWD, revision.c_str(), nullptr, 0);
  if (subject) {
    auto dir = referrers_dir(repo, *subject);
    if (auto st = fs::ensure_dir(dir); !st) return st;
    auto entry = dir / (manifest.digest.algorithm + "-" + manifest.digest.hex);
    if (auto st = fs::write_if_changed(entry, json_text::serialize(referrer_descriptor)); !st) {
      return st;
    }
  }
  if (!tag.empty()) {
    auto file = tag_file(repo, tag);
    if (auto st = fs::ensure_dir(file.parent_path()); !st) return st;
    if (auto st = fs::write_if_changed(file, manifest.digest.string()); !st) return st;
  }
  return {};
}

bool FsStorage::has_manifest(const std::string& repo, const Digest& digest) {
  return path_exists(revision_link(repo, digest)) && blob_size(digest).has_value();
}

Result<StoredManifest> FsStorage::get_manifest(const std::string& repo, const Digest& digest) {
  auto media_type = fs::read_file(revision_link(repo, digest));
  if (!media_type) return make_error(ErrorCode::kNotFound, "manifest unknown: " + digest.string());
  auto content = fs::read_file(blob_path(digest));
  if (!content) return std::move(content).error();
  // A manifest corrupted on disk must not be served as the content of its digest.
  auto digester = distribution::Digester::create(digest.algorithm);
  digester->update(*content);
  if (digester->finish() != digest) {
    return make_error(ErrorCode::kInternal,
                      "manifest " + digest.string() + " is corrupted on disk");
  }
  return StoredManifest{std::move(*content), std::move(*media_type), digest};
}

Result<Digest> FsStorage::resolve_tag(const std::string& repo, const std::string& tag) {
  auto text = fs::read_file(tag_file(repo, tag));
  if (!text) return make_error(ErrorCode::kNotFound, "tag unknown: " + tag);
  auto digest = distribution::parse_digest(*text);
  if (!digest) return std::move(digest).error().wrap("tag " + tag);
  return std::move(*digest);
}

Status FsStorage::delete_manifest(const std::string& repo, const Digest& digest) {
  auto revision = revision_link(repo, digest);
  if (!path_exists(revision)) return make_error(ErrorCode::kNotFound, "manifest unknown");
  // The referrer entry first: the content tells its subject.
  if (auto content = fs::read_file(blob_path(digest))) {
    if (auto parsed = distribution::parse_manifest(*content, ""); parsed && parsed->subject) {
      auto entry = referrers_dir(repo, parsed->subject->digest) /
                   (digest.algorithm + "-" + digest.hex);
      ::unlink(entry.c_str());
    }
  }
  std::string wanted = digest.string();
  for (const auto& tag : sorted_entries(repo_dir(repo) / "_manifests" / "tags")) {
    auto file = tag_file(repo, tag);
    if (auto text = fs::read_file(file); text && *text == wanted) ::unlink(file.c_str());
  }
  if (::unlink(revision.c_str()) != 0) return errno_error("remove manifest " + wanted);
  return {};
}

Status FsStorage::delete_tag(const std::string& repo, const std::string& tag) {
  auto file = tag_file(repo, tag);
  if (::unlink(file.c_str()) != 0) {
    if (errno == ENOENT) return make_error(ErrorCode::kNotFound, "tag unknown: " + tag);
    return errno_error("remove tag " + tag);
  }
  return {};
}

Result<std::vector<std::string>> FsStorage::list_tags(const std::string& repo) {
  if (!repository_exists(repo)) return make_error(ErrorCode::kNotFound, "repository unknown");
  return sorted_entries(repo_dir(repo) / "_manifests" / "tags");
}

Result<std::vector<std::string>> FsStorage::list_repositories() {
  std::vector<std::string> out;
  auto base = root_ / "repositories";
  std::error_code ec;
  stdfs::recursive_directory_iterator it(base, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with("_")) {
      // Like distribution: a repository exists once it holds a manifest or a blob link.
      if (name == "_manifests" || name == "_layers") {
        std::string repo = it->path().parent_path().lexically_relative(base);
        if (out.empty() || out.back() != repo) out.push_back(std::move(repo));
      }
      it.disable_recursion_pending();
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<json::object>> FsStorage::list_referrers(const std::string& repo,
                                                            const Digest& subject) {
  std::vector<json::object> out;
  auto dir = referrers_dir(repo, subject);
  for (const auto& name : sorted_entries(dir)) {
    auto text = fs::read_file(dir / name);
    if (!text) continue;  // deleted while listing
    boost::system::error_code ec;
    auto value = json::parse(*text, ec);
    if (!ec && value.is_object()) out.push_back(std::move(value.get_object()));
  }
  return out;
}

}  // namespace berth::registry
