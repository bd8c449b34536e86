// Image metadata: images (by id), references (tags and digests → image id) and layers (by
// chain id), persisted under <data-root>/image/<storage driver>/ so that one storage driver never
// reads another's layers. Every change is written atomically before it is visible in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::image {

struct ImageRecord {
  std::string id;  // "sha256:<hex>", the digest of the config blob
  int64_t added_unix_nano = 0;
  int64_t last_tag_unix_nano = 0;
  std::string parent;                     // image id this one was committed from
  std::vector<std::string> repo_digests;  // "name@sha256:<manifest>" known for it
  std::string top_chain;                  // chain id of its top layer, "" for no layers
  int64_t size = 0;                       // bytes of all its layers' content
};

// A layer is stored once: its files in the storage driver's snapshot (named by chain id) and a
// tar split beside this record that rebuilds its exact tar from them. Layers stored by berthd
// before tar splits kept the uncompressed tar as a content-store blob instead (split = false).
struct LayerRecord {
  std::string chain_id;  // sha256 of "<parent chain> <diff id>", the diff id for a base layer
  std::string diff_id;   // sha256 of the uncompressed layer tar
  std::string parent_chain;
  int64_t size = 0;  // bytes of file content the layer adds
  int64_t created_unix_nano = 0;
  int64_t tar_size = 0;  // bytes of the uncompressed tar (with split)
  bool split = false;    // rebuilt from its tar split, not a content-store blob
};

class ImageStore {
 public:
  static Result<std::unique_ptr<ImageStore>> open(const std::filesystem::path& dir);

  std::optional<ImageRecord> image(const std::string& id) const;
  std::vector<ImageRecord> images() const;
  Status put_image(const ImageRecord& record);
  Status remove_image(const std::string& id);

  // Full reference strings ("docker.io/library/busybox:local") of an image.
  std::vector<std::string> references(const std::string& id) const;
  std::optional<std::string> lookup(const std::string& reference) const;
  std::map<std::string, std::string> all_references() const;
  Status set_reference(const std::string& reference, const std::string& id);
  Status remove_reference(const std::string& reference);

  std::optional<LayerRecord> layer(const std::string& chain_id) const;
  std::vector<LayerRecord> layers() const;
  Status put_layer(const LayerRecord& record);
  // Removes the record, then its tar split and captures.
  Status remove_layer(const std::string& chain_id);
  // Where a layer's tar split (gzipped records) and captures live, and where splits being
  // written wait (removed at startup: a crash left them).
  std::filesystem::path split_path(const std::string& chain_id) const;
  std::filesystem::path captures_path(const std::string& chain_id) const;
  std::filesystem::path layers_dir() const { return dir_ / "layers"; }
  // Bytes the layers' records, splits and captures take (system df).
  int64_t metadata_bytes() const;

 private:
  explicit ImageStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Status load();
  Status save_references() const;  // caller holds mutex_

  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  std::map<std::string, ImageRecord> images_;
  std::map<std::string, std::string> refs_;  // reference → image id
  std::map<std::string, LayerRecord> layers_;
};

// The chain id of a layer on top of `parent_chain` (OCI image spec).
std::string chain_id(const std::string& parent_chain, const std::string& diff_id);

}  // namespace berth::core::image
