// The filesystem storage. Layout under the root:
//   blobs/<alg>/<hh>/<hex>                         content, written once, renamed into place
//   repositories/<name>/_layers/<alg>/<hex>        empty link: the repository may serve the blob
//   repositories/<name>/_manifests/revisions/<alg>/<hex>   link holding the manifest media type
//   repositories/<name>/_manifests/tags/<tag>      the digest the tag names
//   repositories/<name>/_referrers/<alg>/<subject hex>/<alg>-<hex>   the referrer's descriptor
//   uploads/<id>/data, uploads/<id>/repository     uploads in progress
// Repository path components start with [a-z0-9], so "_layers" and the like never collide
// with a nested repository name.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <ctime>

#include "registry/blob_guard.hpp"
#include "registry/storage.hpp"

namespace berth::registry {

class FsStorage final : public Storage {
 public:
  // Creates the root's directories; fails with a message naming the path.
  static Result<std::unique_ptr<FsStorage>> open(const std::filesystem::path& root);

  std::optional<int64_t> blob_size(const Digest& digest) override;
  Result<UniqueFd> open_blob(const Digest& digest) override;

  bool touch_blob(const Digest& digest) override;
  std::shared_ptr<void> protect_blobs() override;
  const BlobGuard& guard() const { return guard_; }

  bool repository_exists(const std::string& repo) override;
  bool has_blob_link(const std::string& repo, const Digest& digest) override;
  Status link_blob(const std::string& repo, const Digest& digest) override;
  Status unlink_blob(const std::string& repo, const Digest& digest) override;

  Result<std::string> start_upload(const std::string& repo) override;
  Result<int64_t> upload_size(const std::string& repo, const std::string& id) override;
  Result<std::unique_ptr<UploadWriter>> open_upload(const std::string& repo,
                                                    const std::string& id) override;
  Status commit_upload(std::unique_ptr<UploadWriter> upload, const std::string& repo,
                       const Digest& expected, std::optional<int64_t> expected_size) override;
  Status cancel_upload(const std::string& repo, const std::string& id) override;

  Status put_manifest(const std::string& repo, const StoredManifest& manifest,
                      const std::string& tag, const std::optional<Digest>& subject,
                      const boost::json::object& referrer_descriptor) override;
  Result<StoredManifest> get_manifest(const std::string& repo, const Digest& digest) override;
  bool has_manifest(const std::string& repo, const Digest& digest) override;
  Result<Digest> resolve_tag(const std::string& repo, const std::string& tag) override;
  Status delete_manifest(const std::string& repo, const Digest& digest) override;
  Status delete_tag(const std::string& repo, const std::string& tag) override;

  Result<std::vector<std::string>> list_tags(const std::string& repo) override;
  Result<std::vector<std::string>> list_repositories() override;
  Result<std::vector<boost::json::object>> list_referrers(const std::string& repo,
                                                          const Digest& subject) override;

  // Uploads whose last write is older than `max_age` (abandoned), removed; returns how many.
  size_t remove_stale_uploads(std::chrono::seconds max_age);
  size_t uploads_in_progress();

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path blob_path(const Digest& digest) const;
  std::filesystem::path repo_dir(const std::string& repo) const;
  std::filesystem::path revision_link(const std::string& repo, const Digest& digest) const;
  std::filesystem::path tag_file(const std::string& repo, const std::string& tag) const;

 private:
  class FileUploadWriter;
  // The running sha256 of an upload written in order.
  struct HashState {
    distribution::Digester sha256 = *distribution::Digester::create("sha256");
    int64_t hashed = 0;
  };
  explicit FsStorage(std::filesystem::path root);

  std::filesystem::path layer_link(const std::string& repo, const Digest& digest) const;
  std::filesystem::path referrers_dir(const std::string& repo, const Digest& subject) const;
  std::filesystem::path upload_dir(const std::string& id) const;
  // Writes `data` as the blob `digest` unless it exists (write to a temp file, rename).
  Status store_blob(const Digest& digest, std::string_view data);
  // Moves a verified file into the blob store; an existing copy wins (same content).
  Status install_blob(const std::filesystem::path& file, const Digest& digest);
  void release_upload(const std::string& id, std::unique_ptr<HashState> state);

  std::filesystem::path root_;
  BlobGuard guard_;
  std::mutex uploads_mutex_;
  // Uploads held by a request right now, and the running sha256 of uploads written in order
  // (so committing does not read the data again).
  std::set<std::string> busy_uploads_;
  std::map<std::string, std::unique_ptr<HashState>> hash_states_;
  // Blobs whose content was hashed and matched, with the inode change time seen then: any
  // write to the file (or chmod, touch) changes it, and the next read hashes it again.
  std::mutex verified_mutex_;
  std::map<std::string, struct timespec> verified_;
};

}  // namespace berth::registry
