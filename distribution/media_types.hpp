// Media types of the OCI image spec and Docker's manifest formats, as registries see them.
#pragma once

#include <string_view>

namespace berth::distribution::media_type {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
// Layers a registry must not require (foreign / non-distributable): their blobs live elsewhere.
inline constexpr std::string_view kDockerForeignLayer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kOciNondistributablePrefix =
    "application/vnd.oci.image.layer.nondistributable.";

inline bool is_index(std::string_view type) {
  return type == kOciIndex || type == kDockerManifestList;
}
inline bool is_image_manifest(std::string_view type) {
  return type == kOciManifest || type == kDockerManifest;
}
inline bool is_manifest(std::string_view type) { return is_index(type) || is_image_manifest(type); }

}  // namespace berth::distribution::media_type
