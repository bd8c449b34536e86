// docker pull: a reference's manifest (an index resolved to this host's platform, or the one
// asked for), its config and layers from the registry transport, each blob verified by digest
// and size. Layers download in parallel (max-concurrent-downloads) and are applied in order
// while they arrive (blob_download.hpp); a layer is committed only once its blob verified, and
// a pull that fails leaves no image and no new layer. Layers already stored are not fetched.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include "berth/sdk/registry_transport.hpp"
#include "core/config/daemon_config.hpp"
#include "core/image/blob_download.hpp"
#include "core/image/image_push.hpp"
#include "core/image/image_service.hpp"
#include "core/image/registry_auth.hpp"

namespace berth::core::image {

struct Platform {
  std::string os = "linux";
  std::string architecture;  // GOARCH: amd64, arm64, ...
  std::string variant;       // v7, v8, or empty
};

// "linux/amd64", "linux/arm/v7", "amd64"; empty text is the host's platform.
Result<Platform> parse_platform(std::string_view text);

// The manifest of an index that fits `want` (os, architecture, and variant when asked for),
// skipping attestation entries ("unknown/unknown"). kNotFound lists what the index offers.
Result<boost::json::object> select_platform(const boost::json::object& index, const Platform& want);

struct PullRequest {
  Reference reference;  // with a tag or a digest
  std::string platform;
  AuthConfig auth;
};

class ImagePuller {
 public:
  // `digests_dir`: the CompressedDigests shared with the pusher (a pulled gzip layer pushed back
  // to its registry is found there without compressing).
  ImagePuller(ImageService& images, sdk::RegistryTransport& transport,
              config::RegistryOptions options, std::filesystem::path downloads_dir,
              std::filesystem::path digests_dir);

  // Pulls and tags; the messages are Docker's pull stream. Returns the image id.
  Result<std::string> pull(const PullRequest& request, const ProgressFn& progress,
                           sdk::Context& ctx);
  // docker pull -a: every tag of the repository.
  Status pull_all_tags(const PullRequest& request, const ProgressFn& progress, sdk::Context& ctx);

  sdk::RegistryTransport& transport() { return transport_; }
  const config::RegistryOptions& options() const { return options_; }

 private:
  struct Source;
  Result<std::string> pull_from(const Source& source, const PullRequest& request,
                                const ProgressFn& progress, sdk::Context& ctx);
  Status apply_layers(const Source& source, const PullRequest& request,
                      const std::vector<sdk::Descriptor>& layers,
                      const std::vector<std::string>& diff_ids, const ProgressFn& progress,
                      sdk::Context& ctx, std::string& top_chain);

  ImageService& images_;
  sdk::RegistryTransport& transport_;
  config::RegistryOptions options_;
  BlobDownloads downloads_;
  CompressedDigests digests_;
};

}  // namespace berth::core::image
