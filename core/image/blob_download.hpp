// One layer blob coming from a registry into a spool file under downloads/ (<hex>.partial),
// hashed as it arrives and readable while it grows, so the layer is decompressed and applied
// as its bytes come in. The file stays after a failed transfer: the next pull of the blob
// resumes from its end with a Range request (its bytes are hashed again first). A blob whose
// digest or size does not match is deleted, never used. Two pulls that need the same blob share
// one BlobDownload (BlobDownloads::get), so it is fetched once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "berth/sdk/registry_transport.hpp"
#include "core/common/io.hpp"
#include "core/common/result.hpp"

namespace berth::core::image {

class BlobDownload {
 public:
  BlobDownload(std::filesystem::path partial, sdk::Descriptor blob);

  // Fetches the rest of the blob through `transport` (on the calling thread). `progress` sees
  // (bytes so far, total). The outcome is also kept for readers (finished()).
  Status run(sdk::RegistryTransport& transport, sdk::Context& ctx, const sdk::RepoRef& repo,
             const std::function<void(int64_t, int64_t)>& progress);

  // A Reader of the blob's bytes that waits for bytes not yet downloaded; it fails when the
  // download failed and ends at the blob's end once the download finished and verified.
  std::unique_ptr<Reader> open_reader();

  // Blocks until run() finished; its result (the digest and size checked).
  Status wait();
  // Abandons the transfer (the pull failed elsewhere); run() returns kCancelled soon.
  void cancel();
  bool cancelled() const;
  // Removes the spool file (after the layer is stored, or when the blob is refused).
  void discard();

  const sdk::Descriptor& blob() const { return blob_; }
  int64_t resumed_from() const { return resumed_from_; }

 private:
  class GrowingReader;
  std::filesystem::path partial_;
  sdk::Descriptor blob_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t written_ = 0;
  int64_t resumed_from_ = 0;
  bool started_ = false;
  bool done_ = false;
  bool cancelled_ = false;
  Status result_;
};

// The downloads in progress, by digest, shared between concurrent pulls.
class BlobDownloads {
 public:
  explicit BlobDownloads(std::filesystem::path dir) : dir_(std::move(dir)) {}
  // The running download of `blob`, or a new one (`created` tells which).
  std::shared_ptr<BlobDownload> get(const sdk::Descriptor& blob, bool& created);
  void release(const std::string& digest);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<BlobDownload>> active_;
};

}  // namespace berth::core::image
