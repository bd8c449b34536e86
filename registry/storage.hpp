// What the registry stores, behind a small interface so an object-store backend can follow the
// filesystem one. Blobs are content-addressed and stored once for all repositories; a
// repository holds links to the blobs and manifests it may serve, and tags naming manifests.
// Nothing becomes visible half-written: uploads are verified (digest, size) before they are
// renamed into place.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"
#include "distribution/digest.hpp"

namespace berth::registry {

using distribution::Digest;

// One blob upload, held exclusively by the request writing to it.
class UploadWriter {
 public:
  virtual ~UploadWriter() = default;
  virtual const std::string& id() const = 0;
  // Bytes received so far.
  virtual int64_t size() const = 0;
  virtual Status append(std::string_view data) = 0;
};

struct StoredManifest {
  std::string content;
  std::string media_type;
  Digest digest;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // --- blobs: content shared by every repository ---
  virtual std::optional<int64_t> blob_size(const Digest& digest) = 0;
  // The blob's content for serving, checked against its digest whenever it may have changed
  // since it was last checked; kNotFound when absent or corrupted (a corrupted blob is moved
  // aside, so a new push of the same content restores it).
  virtual Result<UniqueFd> open_blob(const Digest& digest) = 0;

  // Marks the blob as just used (its age restarts, so garbage collection keeps it through its
  // grace period); false when it does not exist.
  virtual bool touch_blob(const Digest& digest) = 0;
  // Held while a push checks and references existing blobs: garbage collection deletes no blob
  // meanwhile (see BlobGuard).
  virtual std::shared_ptr<void> protect_blobs() = 0;

  // --- a repository's view of the blobs ---
  virtual bool repository_exists(const std::string& repo) = 0;
  virtual bool has_blob_link(const std::string& repo, const Digest& digest) = 0;
  virtual Status link_blob(const std::string& repo, const Digest& digest) = 0;
  // kNotFound when the repository has no such link.
  virtual Status unlink_blob(const std::string& repo, const Digest& digest) = 0;

  // --- uploads ---
  virtual Result<std::string> start_upload(const std::string& repo) = 0;
  // The upload's size; kNotFound for an unknown upload (or one of another repository).
  virtual Result<int64_t> upload_size(const std::string& repo, const std::string& id) = 0;
  // Exclusive access for one request; kUnavailable while another request holds it.
  virtual Result<std::unique_ptr<UploadWriter>> open_upload(const std::string& repo,
                                                            const std::string& id) = 0;
  // Verifies digest and (when given) size, makes the blob visible and links it into the
  // repository; the upload is gone afterwards whatever the outcome. kInvalidArgument: the
  // content does not match `expected` (message says how); kOutOfRange never.
  virtual Status commit_upload(std::unique_ptr<UploadWriter> upload, const std::string& repo,
                               const Digest& expected,
                               std::optional<int64_t> expected_size) = 0;
  virtual Status cancel_upload(const std::string& repo, const std::string& id) = 0;

  // --- manifests and tags ---
  // Stores the manifest content as a blob, links it as a revision of `repo`, points `tag`
  // (when not empty) at it, and records it as a referrer of `subject` (when given).
  virtual Status put_manifest(const std::string& repo, const StoredManifest& manifest,
                              const std::string& tag, const std::optional<Digest>& subject,
                              const boost::json::object& referrer_descriptor) = 0;
  virtual Result<StoredManifest> get_manifest(const std::string& repo, const Digest& digest) = 0;
  virtual bool has_manifest(const std::string& repo, const Digest& digest) = 0;
  // kNotFound when the tag does not exist.
  virtual Result<Digest> resolve_tag(const std::string& repo, const std::string& tag) = 0;
  // Removes the revision, every tag naming it and its referrer entry.
  virtual Status delete_manifest(const std::string& repo, const Digest& digest) = 0;
  virtual Status delete_tag(const std::string& repo, const std::string& tag) = 0;

  // --- listing (sorted) ---
  virtual Result<std::vector<std::string>> list_tags(const std::string& repo) = 0;
  virtual Result<std::vector<std::string>> list_repositories() = 0;
  // The descriptors of the manifests whose subject is `subject`.
  virtual Result<std::vector<boost::json::object>> list_referrers(const std::string& repo,
                                                                  const Digest& subject) = 0;
};

}  // namespace berth::registry
