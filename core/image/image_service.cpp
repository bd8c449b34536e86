// Images: lookups, layer bookkeeping, create/import, tags, remove. What clients read (list,
// inspect, history) and prune are in image_list.cpp.
#include "core/image/image_service.hpp"

#include <boost/json.hpp>
#include <filesystem>

#include "berth/sdk/mount.hpp"
#include "core/common/fs.hpp"
#include "core/common/host_info.hpp"
#include "core/common/ids.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"
#include "core/image/dockerfile_changes.hpp"
#include "core/layer/applier.hpp"
#include "core/layer/compression.hpp"
#include "core/image/image_service_detail.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

using detail::is_digest_ref;

std::string short_id(const std::string& id) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

Error no_such_image(std::string_view name) {
  return make_error(ErrorCode::kNotFound, "No such image: " + std::string(name));
}

std::string familiar(const std::string& full_ref) {
  auto r = parse_normalized(full_ref);
  return r ? r->familiar_string() : full_ref;
}

}  // namespace

ImageService::ImageService(store::ContentStore& content, ImageStore& store,
                           sdk::StorageDriver& storage, events::EventBus& events,
                           std::string storage_name, std::string scratch_dir)
    : content_(content),
      store_(store),
      storage_(storage),
      events_(events),
      storage_name_(std::move(storage_name)),
      scratch_dir_(std::move(scratch_dir)) {}

void ImageService::publish(const std::string& action, const std::string& id,
                           const std::string& name) const {
  events::Event e;
  e.type = "image";
  e.action = action;
  e.actor_id = name.empty() ? id : name;
  e.attributes["name"] = name.empty() ? id : name;
  events_.publish(std::move(e));
}

// ---- lookups ------------------------------------------------------------------------------

Result<ResolvedImage> ImageService::resolve(std::string_view name) const {
  auto load = [&](const std::string& id) -> Result<ResolvedImage> {
    auto rec = store_.image(id);
    if (!rec) return no_such_image(name);
    auto bytes = content_.read(id);
    if (!bytes) return bytes.error().wrap("read config of image " + short_id(id));
    auto config = ImageConfig::parse(std::move(*bytes));
    if (!config) return config.error().wrap("image " + short_id(id));
    return ResolvedImage{std::move(*rec), std::move(*config)};
  };
  if (name.empty()) return no_such_image(name);
  if (is_full_id(name)) {
    std::string id(name);
    if (id.rfind("sha256:", 0) != 0) id = "sha256:" + id;
    return load(id);
  }
  if (auto ref = parse_normalized_tagged(name)) {
    if (auto id = store_.lookup(ref->string())) return load(*id);
    if (!ref->digest.empty()) {
      // name@digest also resolves when the digest is one we recorded for the image.
      for (const auto& rec : store_.images()) {
        for (const auto& d : rec.repo_digests) {
          if (d == ref->name() + "@" + ref->digest) return load(rec.id);
        }
      }
    }
  }
  if (is_id_prefix(name)) {
    std::string prefix(name);
    if (prefix.rfind("sha256:", 0) == 0) prefix = prefix.substr(7);
    std::string found;
    for (const auto& rec : store_.images()) {
      if (rec.id.compare(7, prefix.size(), prefix) == 0) {
        if (!found.empty()) {
          return make_error(ErrorCode::kInvalidArgument,
                            "image ID prefix \"" + std::string(name) + "\" is ambiguous");
        }
        found = rec.id;
      }
    }
    if (!found.empty()) return load(found);
  }
  return no_such_image(name);
}

size_t ImageService::count() const { return store_.images().size(); }

std::vector<std::string> ImageService::repo_tags(const std::string& id) const {
  std::vector<std::string> out;
  for (const auto& ref : store_.references(id)) {
    if (!is_digest_ref(ref)) out.push_back(familiar(ref));
  }
  return out;
}

std::vector<std::string> ImageService::repo_digests(const std::string& id) const {
  std::vector<std::string> out;
  for (const auto& ref : store_.references(id)) {
    if (is_digest_ref(ref)) out.push_back(familiar(ref));
  }
  if (auto rec = store_.image(id)) {
    for (const auto& d : rec->repo_digests) {
      std::string f = familiar(d);
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
    }
  }
  return out;
}

// ---- layers -------------------------------------------------------------------------------

std::shared_ptr<std::mutex> ImageService::chain_lock(const std::string& chain) {
  std::lock_guard lock(locks_mutex_);
  auto& weak = chain_locks_[chain];
  auto strong = weak.lock();
  if (!strong) {
    strong = std::make_shared<std::mutex>();
    weak = strong;
  }
  return strong;
}

std::set<std::string> ImageService::chains_in_use() const {
  std::set<std::string> used;
  for (const auto& img : store_.images()) {
    std::string chain = img.top_chain;
    while (!chain.empty() && used.insert(chain).second) {
      auto l = store_.layer(chain);
      if (!l) break;
      chain = l->parent_chain;
    }
  }
  return used;
}

void ImageService::remove_unused_blob(const std::string& digest) {
  if (store_.image(digest)) return;  // an image config
  for (const auto& l : store_.layers()) {
    if (!l.split && l.diff_id == digest) return;  // a layer stored before tar splits
  }
  (void)content_.remove(digest);
}

std::vector<std::string> ImageService::release_layers(sdk::Context& ctx, const std::string& top_chain) {
  std::vector<std::string> deleted;
  auto used = chains_in_use();
  std::string chain = top_chain;
  while (!chain.empty() && !used.contains(chain)) {
    auto l = store_.layer(chain);
    if (!l) break;
    auto lock_holder = chain_lock(chain);
    std::lock_guard lock(*lock_holder);
    if (auto s = storage_.remove(ctx, chain); !s && s.error().code != ErrorCode::kNotFound) {
      // A container's rootfs still sits on it (rmi -f of an image a stopped container uses):
      // keep the layer; it goes with the last container.
      break;
    }
    (void)store_.remove_layer(chain);
    remove_unused_blob(l->diff_id);
    deleted.push_back(chain);
    chain = l->parent_chain;
  }
  return deleted;
}

// ---- images -------------------------------------------------------------------------------

Result<std::string> ImageService::create_image(std::string config_bytes,
                                               const std::string& parent_image) {
  auto config = ImageConfig::parse(config_bytes);
  if (!config) return config.error();
  std::string chain;
  int64_t size = 0;
  for (const auto& diff : config->diff_ids()) {
    std::string next = chain_id(chain, diff);
    auto l = store_.layer(next);
    if (!l) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "layer " + short_id(diff) + " of the image is not registered");
    }
    size += l->size;
    chain = next;
  }
  auto id = content_.put(config_bytes);
  if (!id) return id.error();
  std::lock_guard lock(mutex_);
  if (auto existing = store_.image(*id)) return *id;
  ImageRecord rec;
  rec.id = *id;
  rec.added_unix_nano = now_unix_nano();
  rec.parent = parent_image;
  rec.top_chain = chain;
  rec.size = size;
  BERTH_TRY_STATUS(store_.put_image(rec));
  return *id;
}

std::vector<std::string> ImageService::tags_of_repository(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [ref, id] : store_.all_references()) {
    if (ref.size() > name.size() + 1 && ref.compare(0, name.size(), name) == 0 &&
        ref[name.size()] == ':' && ref.find('@') == std::string::npos) {
      out.push_back(ref.substr(name.size() + 1));
    }
  }
  return out;
}

Status ImageService::add_repo_digest(const std::string& id, const std::string& name_at_digest) {
  std::lock_guard lock(mutex_);
  auto rec = store_.image(id);
  if (!rec) return make_error(ErrorCode::kNotFound, "no such image: " + id);
  auto& list = rec->repo_digests;
  // One digest per repository, as dockerd keeps them: the newest pull replaces the older one.
  std::string name = name_at_digest.substr(0, name_at_digest.find('@'));
  std::erase_if(list, [&](const std::string& d) { return d.substr(0, d.find('@')) == name; });
  list.push_back(name_at_digest);
  return store_.put_image(*rec);
}

Status ImageService::set_tag(const Reference& reference, const std::string& id) {
  std::string full = reference.string();
  auto previous = store_.lookup(full);
  BERTH_TRY_STATUS(store_.set_reference(full, id));
  if (auto rec = store_.image(id)) {
    rec->last_tag_unix_nano = now_unix_nano();
    (void)store_.put_image(*rec);
  }
  if (previous && *previous != id) publish("untag", *previous, "");
  publish("tag", id, reference.familiar_string());
  return {};
}

Result<std::string> ImageService::import(sdk::Context& ctx, Reader& tar, const std::string& repo,
                                         const std::string& tag, const std::string& message,
                                         const std::vector<std::string>& changes) {
  // Everything the caller controls is checked before any byte is stored.
  std::optional<Reference> target;
  if (!repo.empty()) {
    std::string text = repo;
    if (!tag.empty()) text += ":" + tag;
    auto ref = parse_normalized_tagged(text);
    if (!ref) return ref.error();
    if (!ref->digest.empty()) {
      return make_error(ErrorCode::kInvalidArgument, "cannot import to a digest reference");
    }
    target = *ref;
  }
  json::object container_config;
  for (const auto& change : changes) {
    if (auto s = apply_change(container_config, change); !s) return std::move(s).error().wrap("invalid change");
  }

  // Streamed straight into its snapshot: the layer is stored once, as its files.
  auto layer_rec = ingest_layer(ctx, "", tar, std::nullopt);
  if (!layer_rec) return std::move(layer_rec).error().wrap("import");
  const std::string* diff_id = &layer_rec->diff_id;
  std::string now = rfc3339_nano(now_unix_nano());
  std::string comment = message.empty() ? "Imported from -" : message;
  json::object config{{"architecture", read_host_info().go_arch},
                      {"comment", comment},
                      {"config", container_config},
                      {"created", now},
                      {"history", json::array{json::object{{"created", now}, {"comment", comment}}}},
                      {"os", "linux"},
                      {"rootfs", json::object{{"type", "layers"},
                                              {"diff_ids", json::array{json::string(*diff_id)}}}}};
  auto id = create_image(encode_config(config), "");
  if (!id) {
    release_layers(ctx, layer_rec->chain_id);
    return id.error();
  }
  publish("import", *id, "");
  if (target) BERTH_TRY_STATUS(set_tag(*target, *id));
  return *id;
}


Status ImageService::tag(std::string_view source, const std::string& repo, const std::string& tag) {
  auto img = resolve(source);
  if (!img) return img.error();
  std::string text = repo;
  if (!tag.empty()) text += ":" + tag;
  auto ref = parse_normalized_tagged(text);
  if (!ref) return ref.error();
  if (!ref->digest.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "refusing to create a tag with a digest reference");
  }
  std::lock_guard lock(mutex_);
  return set_tag(*ref, img->record.id);
}

Result<std::vector<DeleteItem>> ImageService::delete_image(sdk::Context& ctx, const ImageRecord& rec,
                                                           bool /*prune_parents*/) {
  std::vector<DeleteItem> items;
  for (const auto& ref : store_.references(rec.id)) {
    BERTH_TRY_STATUS(store_.remove_reference(ref));
    items.push_back({familiar(ref), ""});
    publish("untag", rec.id, familiar(ref));
  }
  BERTH_TRY_STATUS(store_.remove_image(rec.id));
  (void)content_.remove(rec.id);
  items.push_back({"", rec.id});
  publish("delete", rec.id, "");
  for (const auto& chain : release_layers(ctx, rec.top_chain)) items.push_back({"", chain});
  return items;
}

Result<std::vector<DeleteItem>> ImageService::remove(sdk::Context& ctx, std::string_view name, bool force,
                                                     bool prune_parents) {
  auto img = resolve(name);
  if (!img) return img.error();
  std::lock_guard lock(mutex_);
  const auto& rec = img->record;
  ImageUsers users = image_users ? image_users(rec.id) : ImageUsers{};
  auto refs = store_.references(rec.id);
  // Docker's rule: the name is an id when it is a prefix of the resolved image's id.
  std::string_view bare = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
  bool by_reference = rec.id.compare(7, bare.size(), bare) != 0;
  std::vector<DeleteItem> items;
  if (by_reference) {
    auto ref = parse_normalized_tagged(name);
    if (!ref) return ref.error();
    std::string full = ref->string();
    bool last = refs.size() <= 1;
    if (last && !force && (!users.running.empty() || !users.stopped.empty())) {
      std::string user = !users.running.empty() ? users.running[0] : users.stopped[0];
      return make_error(ErrorCode::kFailedPrecondition,
                        "conflict: unable to remove repository reference \"" + std::string(name) +
                            "\" (must force) - container " + user.substr(0, 12) +
                            " is using its referenced image " + short_id(rec.id));
    }
    BERTH_TRY_STATUS(store_.remove_reference(full));
    items.push_back({ref->familiar_string(), ""});
    publish("untag", rec.id, ref->familiar_string());
    if (!last) return items;
    if (!users.running.empty() || !users.stopped.empty()) return items;  // untag only
    auto rest = delete_image(ctx, rec, prune_parents);
    if (!rest) return rest.error();
    items.insert(items.end(), rest->begin(), rest->end());
    return items;
  }
  // By id.
  if (!users.running.empty()) {
    return make_error(ErrorCode::kFailedPrecondition,
                      "conflict: unable to delete " + short_id(rec.id) +
                          " (cannot be forced) - image is being used by running container " +
                          users.running[0].substr(0, 12));
  }
  if (!force) {
    size_t tags = 0;
    for (const auto& r : refs) tags += is_digest_ref(r) ? 0 : 1;
    if (tags > 1) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "conflict: unable to delete " + short_id(rec.id) +
                            " (must be forced) - image is referenced in multiple repositories");
    }
    if (!users.stopped.empty()) {
      return make_error(ErrorCode::kFailedPrecondition,
                        "conflict: unable to delete " + short_id(rec.id) +
                            " (must be forced) - image is being used by stopped container " +
                            users.stopped[0].substr(0, 12));
    }
  }
  return delete_image(ctx, rec, prune_parents);
}

}  // namespace berth::core::image
