// Content-addressed blob store (sha256): layers, configs and manifests, as containerd's content
// store. Blobs live at <root>/blobs/sha256/<hex>; writes stream into <root>/ingest/ and are
// renamed into place only once their digest is known (and verified when the caller expected one).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/common/sha256.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::core::store {

// One streaming write into the store. Bytes are hashed while they are written to a temp file;
// commit() moves the file into place under its digest. An ingest that is destroyed without
// commit() is aborted (its temp file removed). Not thread-safe itself; use one per writer.
class Ingest final : public Writer {
 public:
  Ingest(Ingest&& other) noexcept;
  Ingest& operator=(Ingest&& other) noexcept;
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;
  ~Ingest() override;

  Status write(std::string_view data) override;

  // Verifies the digest and size when given, makes the blob durable and returns its digest
  // "sha256:<hex>". A mismatch is kInvalidArgument and stores nothing. The ingest is finished
  // afterwards whatever the outcome.
  Result<std::string> commit(std::optional<std::string> expected_digest = std::nullopt,
                             std::optional<int64_t> expected_size = std::nullopt);

  // Drops the temp file; safe to call more than once.
  void abort();

  int64_t written() const { return written_; }

 private:
  friend class ContentStore;
  Ingest(std::filesystem::path temp, std::filesystem::path blob_dir, UniqueFd fd);

  std::filesystem::path temp_;
  std::filesystem::path blob_dir_;
  UniqueFd fd_;
  Sha256 hash_;
  int64_t written_ = 0;
  bool done_ = false;
};

class ContentStore {
 public:
  // Creates the layout under `root` and removes temp files a crash left in ingest/.
  static Result<ContentStore> open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  Result<Ingest> begin() const;

  // Streams `in` into the store (begin + write + commit).
  Result<std::string> ingest(Reader& in, std::optional<std::string> expected_digest = std::nullopt,
                             std::optional<int64_t> expected_size = std::nullopt) const;

  // Small blobs (configs, manifests) held in memory.
  Result<std::string> put(std::string_view data) const;
  Result<std::string> read(std::string_view digest) const;
  Result<UniqueFd> open_blob(std::string_view digest) const;

  // Where the blob lives (whether or not it exists). Invalid digests are refused.
  Result<std::filesystem::path> path(std::string_view digest) const;
  // False for absent blobs and for invalid digests.
  bool exists(std::string_view digest) const;
  Result<int64_t> size(std::string_view digest) const;
  // kNotFound when the blob is absent.
  Status remove(std::string_view digest) const;
  // Every stored digest, sorted.
  Result<std::vector<std::string>> list() const;
  // Rehashes the blob: kFailedPrecondition when its content no longer matches its name.
  Status verify(std::string_view digest) const;

 private:
  explicit ContentStore(std::filesystem::path root);

  std::filesystem::path root_;
  std::filesystem::path blob_dir_;
  std::filesystem::path ingest_dir_;
};

}  // namespace berth::core::store
