// The registry's wire parsing: manifests and indexes (as pushed, with any Content-Type),
// digests, manifest references and /v2 paths never crash; what parses is consistent (a parsed
// digest prints back to its text, a required blob is a layer or the config).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "distribution/digest.hpp"
#include "distribution/manifest.hpp"
#include "distribution/media_types.hpp"
#include "distribution/names.hpp"
#include "registry/routes.hpp"
#include "registry/url.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::string_view type : {std::string_view(), distribution::media_type::kOciManifest,
                                distribution::media_type::kOciIndex,
                                distribution::media_type::kDockerManifestList}) {
    auto m = distribution::parse_manifest(text, type);
    if (!m) continue;
    if (!distribution::media_type::is_manifest(m->media_type)) __builtin_trap();
    for (const auto& blob : m->required_blobs()) {
      if (!distribution::parse_digest(blob.digest.string())) __builtin_trap();
    }
    (void)m->referrer_artifact_type();
  }
  if (auto d = distribution::parse_digest(text); d && d->string() != text) __builtin_trap();
  (void)distribution::parse_manifest_reference(text);
  (void)distribution::is_valid_repository_name(text);
  if (auto path = registry::url::decode_path(text)) {
    auto route = registry::match_route(*path);
    (void)distribution::is_valid_repository_name(route.name);
  }
  (void)registry::url::parse_query(text);
  return 0;
}
