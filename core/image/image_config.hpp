// An image's config (the JSON blob whose digest is the image id): the OCI/Docker image config
// with architecture, os, created, config (Cmd, Env, ...), rootfs.diff_ids and history. Kept as
// its exact bytes (the id is their digest) plus a parsed view.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::image {

// Media types of the formats we read and write.
inline constexpr std::string_view kDockerConfigType = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerManifestType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestListType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerLayerType = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzipType =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kOciConfigType = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciLayerType = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzipType = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstdType = "application/vnd.oci.image.layer.v1.tar+zstd";

struct HistoryEntry {
  int64_t created_unix = 0;
  std::string created_by;
  std::string comment;
  std::string author;
  bool empty_layer = false;
};

class ImageConfig {
 public:
  // Parses and checks the parts berth relies on (rootfs.diff_ids are valid digests, os linux).
  static Result<ImageConfig> parse(std::string bytes);

  const std::string& bytes() const { return bytes_; }
  const boost::json::object& json() const { return json_; }
  // The "config" section (Cmd, Env, ...), empty when absent.
  const boost::json::object& container_config() const;

  const std::vector<std::string>& diff_ids() const { return diff_ids_; }
  const std::vector<HistoryEntry>& history() const { return history_; }
  int64_t created_unix_nano() const { return created_nano_; }
  std::string architecture() const;
  std::string os() const;
  std::string author() const;
  std::string comment() const;  // first history comment ("Imported from -")

 private:
  std::string bytes_;
  boost::json::object json_;
  std::vector<std::string> diff_ids_;
  std::vector<HistoryEntry> history_;
  int64_t created_nano_ = 0;
};

// Docker's "Config" object with every field present, filled from an image's config section
// (what `docker image inspect` shows as Config).
boost::json::object full_container_config(const boost::json::object& config);

// The compact JSON encoding dockerd uses for configs (no spaces, keys in insertion order).
std::string encode_config(const boost::json::object& config);

}  // namespace berth::core::image
