// Images: the object model behind /images/*. Owns policy (names, tags, what may be deleted);
// bytes live in the content store, layers in the storage driver's snapshots, metadata in the
// ImageStore. Every operation that fails leaves no half-made image, layer or snapshot behind.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/sdk/storage_driver.hpp"
#include "core/common/io.hpp"
#include "core/common/list_filters.hpp"
#include "core/common/result.hpp"
#include "core/events/event_bus.hpp"
#include "core/image/image_config.hpp"
#include "core/image/image_store.hpp"
#include "core/image/reconcile.hpp"
#include "core/image/reference.hpp"
#include "core/layer/applier.hpp"
#include "core/store/content_store.hpp"

namespace berth::core::image {

struct ResolvedImage {
  ImageRecord record;
  ImageConfig config;
};

// One entry of an rmi/prune answer: {"Untagged": ref} or {"Deleted": id}.
struct DeleteItem {
  std::string untagged;
  std::string deleted;
};

// Which containers use an image (set by the container subsystem).
struct ImageUsers {
  std::vector<std::string> running;  // container ids
  std::vector<std::string> stopped;
};

// Progress and output lines for streamed answers (import, load).
using ProgressFn = std::function<void(const boost::json::object& message)>;

class ImageService {
 public:
  ImageService(store::ContentStore& content, ImageStore& store, sdk::StorageDriver& storage,
               events::EventBus& events, std::string storage_name, std::string scratch_dir);

  // ---- lookups ----------------------------------------------------------------------------
  // Docker's resolution: full id, name[:tag] / name@digest, then a unique id prefix.
  Result<ResolvedImage> resolve(std::string_view name) const;
  size_t count() const;
  // Familiar tag references of an image ("busybox:local").
  std::vector<std::string> repo_tags(const std::string& id) const;
  std::vector<std::string> repo_digests(const std::string& id) const;

  // ---- API operations -----------------------------------------------------------------------
  // POST /images/create?fromSrc=-: the tar (any compression) becomes a one-layer image.
  Result<std::string> import(sdk::Context& ctx, Reader& tar, const std::string& repo, const std::string& tag,
                             const std::string& message, const std::vector<std::string>& changes);
  Result<boost::json::array> list(const Filters& filters, bool all, bool digests) const;
  Result<boost::json::object> inspect(std::string_view name) const;
  Result<boost::json::array> history(std::string_view name) const;
  Status tag(std::string_view source, const std::string& repo, const std::string& tag);
  Result<std::vector<DeleteItem>> remove(sdk::Context& ctx, std::string_view name, bool force, bool prune_parents);
  Result<std::pair<std::vector<DeleteItem>, int64_t>> prune(sdk::Context& ctx, const Filters& filters);

  // GET /images/get: docker save format (with the OCI layout alongside) into `out`.
  Status save(sdk::Context& ctx, const std::vector<std::string>& names, Writer& out);
  // POST /images/load: docker save or OCI layout tars; returns the "Loaded image" lines.
  Result<std::vector<std::string>> load(sdk::Context& ctx, Reader& tar, const ProgressFn& progress);

  // ---- layers ---------------------------------------------------------------------------------
  // Stores the layer tar `tar` (any compression) on top of `parent_chain`, once: applied into
  // a snapshot while its tar split is recorded, both committed only when all went well. With
  // `expected_diff_id`, a layer already stored is returned without reading `tar`, and other
  // content is refused. Input that is not a tar or unpacks beyond the tar limits is refused.
  // `before_commit` (pull) runs after the tar was applied and before anything is committed: the
  // compressed blob's digest and size are checked there, and its error discards the layer.
  Result<LayerRecord> ingest_layer(sdk::Context& ctx, const std::string& parent_chain, Reader& tar,
                                   const std::optional<std::string>& expected_diff_id,
                                   const std::function<Status()>& before_commit = {});
  // Whether the layer `chain` is stored (its record and its snapshot).
  bool has_layer(sdk::Context& ctx, const std::string& chain) const;
  // Drops a chain of layers an operation registered and then could not use (no image has it).
  void release_chain(sdk::Context& ctx, const std::string& top_chain) { release_layers(ctx, top_chain); }
  std::optional<LayerRecord> layer_record(const std::string& chain) const { return store_.layer(chain); }
  // The tags of repository `name` ("docker.io/library/busybox" → {"latest", "1.36"}), sorted.
  std::vector<std::string> tags_of_repository(const std::string& name) const;
  // Records "name@sha256:<manifest>" as a RepoDigest of image `id` (what a pull fetched).
  Status add_repo_digest(const std::string& id, const std::string& name_at_digest);
  // The stored layer's exact uncompressed tar (its last read checks the DiffID).
  Result<std::unique_ptr<Reader>> open_layer_tar(sdk::Context& ctx, const LayerRecord& record);
  Result<int64_t> layer_tar_size(const LayerRecord& record) const;
  // Startup: removes what an interrupted operation left (see reconcile.hpp). `container_keys`
  // are the snapshots of the containers berthd knows.
  Result<ReconcileReport> reconcile(sdk::Context& ctx, const std::set<std::string>& container_keys);
  // Removes a content-store blob no image config or (pre-split) layer refers to: spooled tars.
  void remove_unused_blob(const std::string& digest);
  // daemon.json's max-layer-size and max-expansion-ratio, for every tar taken in.
  void set_tar_limits(layer::TarLimits limits) { tar_limits_ = limits; }
  // Stores a config whose diff ids are all registered layers; returns the image id.
  Result<std::string> create_image(std::string config_bytes, const std::string& parent_image);
  // Points `reference` (any form the user typed) at image `id`, with its events.
  Status set_tag(const Reference& reference, const std::string& id);

  std::function<ImageUsers(const std::string& image_id)> image_users;

  store::ContentStore& content() { return content_; }
  sdk::StorageDriver& storage() { return storage_; }
  const std::string& storage_name() const { return storage_name_; }

 private:
  class LayerTar;
  std::shared_ptr<std::mutex> chain_lock(const std::string& chain);
  Result<layer::ApplyResult> apply_into_snapshot(const std::string& key,
                                                 const std::vector<sdk::Mount>& mounts, Reader& tar,
                                                 layer::ApplyOptions options);
  std::set<std::string> chains_in_use() const;  // by any image
  std::vector<std::string> release_layers(sdk::Context& ctx, const std::string& top_chain);
  Result<std::vector<DeleteItem>> delete_image(sdk::Context& ctx, const ImageRecord& record, bool prune_parents);
  // `reference_patterns`: a reference filter's patterns; only the names matching one are listed.
  boost::json::object summary(const ImageRecord& record, const ImageConfig& config, bool digests,
                              const std::set<std::string>* reference_patterns = nullptr) const;
  void publish(const std::string& action, const std::string& id, const std::string& name) const;

  store::ContentStore& content_;
  ImageStore& store_;
  sdk::StorageDriver& storage_;
  events::EventBus& events_;
  std::string storage_name_;
  std::string scratch_dir_;  // where snapshots are mounted when a driver needs it
  layer::TarLimits tar_limits_;

  mutable std::mutex mutex_;  // image/reference changes
  std::mutex locks_mutex_;
  std::map<std::string, std::weak_ptr<std::mutex>> chain_locks_;
};

}  // namespace berth::core::image
