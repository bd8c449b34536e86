// docker push: an image's layers (gzip-compressed from their exact stored tars), its config and
// a Docker schema2 manifest made the way dockerd makes it, so the same image pushed twice has the
// same digests. Blobs the registry already has are skipped (HEAD); the compressed digest of every
// layer is remembered (CompressedDigests) so a second push knows it without compressing again.
// Layers upload in parallel (max-concurrent-uploads); the manifest goes last, only when every
// blob is in place.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "berth/sdk/registry_transport.hpp"
#include "core/config/daemon_config.hpp"
#include "core/image/image_service.hpp"
#include "core/image/registry_auth.hpp"

namespace berth::core::image {

// diff id → the compressed blob it was pushed or pulled as, and the repositories ("host/path")
// it was last pushed to or pulled from (so a push to another repository of the same registry
// can mount it instead of uploading), one small JSON file per layer under <dir>/<diff hex>.
// Losing one only costs a recompression or an upload.
class CompressedDigests {
 public:
  explicit CompressedDigests(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::optional<sdk::Descriptor> get(const std::string& diff_id) const;
  // Repositories of `registry` the blob was seen in, most recent first.
  std::vector<std::string> seen_in(const std::string& diff_id, const std::string& registry) const;
  void put(const std::string& diff_id, const sdk::Descriptor& blob,
           const sdk::RepoRef* seen_in = nullptr) const;

 private:
  std::filesystem::path dir_;
};

// The schema2 manifest exactly as dockerd serialises it (Go's json.MarshalIndent, 3 spaces).
std::string docker_manifest_json(const sdk::Descriptor& config,
                                 const std::vector<sdk::Descriptor>& layers);

struct PushRequest {
  Reference reference;  // a tag, or none for every tag of the repository
  AuthConfig auth;
};

class ImagePusher {
 public:
  // `work_dir` holds compressed layers while they upload; `digests_dir` the CompressedDigests.
  ImagePusher(ImageService& images, sdk::RegistryTransport& transport,
              config::RegistryOptions options, std::filesystem::path work_dir,
              std::filesystem::path digests_dir);

  // The messages are Docker's push stream.
  Status push(const PushRequest& request, const ProgressFn& progress, sdk::Context& ctx);

 private:
  Status push_tag(const sdk::RepoRef& repo, const Reference& ref, const AuthConfig& auth,
                  const ProgressFn& progress, sdk::Context& ctx);
  Result<sdk::Descriptor> push_layer(const sdk::RepoRef& repo, const LayerRecord& layer,
                                     const ProgressFn& progress, sdk::Context& ctx);

  ImageService& images_;
  sdk::RegistryTransport& transport_;
  config::RegistryOptions options_;
  std::filesystem::path work_dir_;
  CompressedDigests digests_;
};

}  // namespace berth::core::image
