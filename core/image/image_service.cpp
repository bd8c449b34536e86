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

namespace json = boost::json;

namespace berth::core::image {
namespace {

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

bool is_digest_ref(const std::string& full_ref) { return full_ref.find('@') != std::string::npos; }

// Docker's "until"/"before"-style time filter values: durations are not accepted here, only
// timestamps (the CLI converts durations itself).
std::optional<int64_t> filter_time(const std::string& v) { return parse_timestamp_param(v); }

bool label_matches(const json::object& config, const std::set<std::string>& wanted) {
  const json::object* labels = nullptr;
  if (const auto* l = config.if_contains("Labels"); l != nullptr && l->is_object()) {
    labels = &l->get_object();
  }
  for (const auto& w : wanted) {
    auto eq = w.find('=');
    std::string key = w.substr(0, eq);
    if (labels == nullptr || !labels->contains(key)) return false;
    if (eq != std::string::npos) {
      const auto& v = labels->at(key);
      if (!v.is_string() || v.get_string() != w.substr(eq + 1)) return false;
    }
  }
  return true;
}

// Docker's reference filter: a pattern with shell-style '*' matched against familiar names
// ("busybox", "cap/bb:v1").
bool glob(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] == '*') {
    for (size_t i = 0; i <= text.size(); ++i) {
      if (glob(pattern.substr(1), text.substr(i))) return true;
    }
    return false;
  }
  if (text.empty()) return false;
  if (pattern[0] != '?' && pattern[0] != text[0]) return false;
  return glob(pattern.substr(1), text.substr(1));
}

bool reference_matches(const std::vector<std::string>& refs, const std::set<std::string>& patterns) {
  for (const auto& ref : refs) {
    auto parsed = parse_normalized(ref);
    if (!parsed) continue;
    std::string name = parsed->familiar_name();
    std::string with_tag = parsed->familiar_string();
    for (const auto& p : patterns) {
      if (glob(p, name) || glob(p, with_tag) || p == with_tag) return true;
      // "busybox" also matches "docker.io/library/busybox" forms written by the user.
      if (auto pp = parse_normalized(p); pp && pp->tag.empty() && pp->digest.empty() &&
                                          pp->familiar_name() == name) {
        return true;
      }
    }
  }
  return false;
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

std::vector<std::string> ImageService::release_layers(const std::string& top_chain) {
  std::vector<std::string> deleted;
  auto used = chains_in_use();
  sdk::Context ctx;
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

Result<std::string> ImageService::import(Reader& tar, const std::string& repo,
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
  auto layer_rec = ingest_layer("", tar, std::nullopt);
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
    release_layers(layer_rec->chain_id);
    return id.error();
  }
  publish("import", *id, "");
  if (target) BERTH_TRY_STATUS(set_tag(*target, *id));
  return *id;
}

json::object ImageService::summary(const ImageRecord& rec, const ImageConfig& config,
                                   bool /*digests*/) const {
  json::array tags;
  for (const auto& t : repo_tags(rec.id)) tags.emplace_back(t);
  json::array digests;
  for (const auto& d : repo_digests(rec.id)) digests.emplace_back(d);
  const auto& cc = config.container_config();
  json::value labels = nullptr;
  if (const auto* l = cc.if_contains("Labels"); l != nullptr && l->is_object()) labels = *l;
  int64_t containers = -1;
  if (image_users) {
    auto users = image_users(rec.id);
    containers = static_cast<int64_t>(users.running.size() + users.stopped.size());
  }
  int64_t created = config.created_unix_nano() / 1000000000;
  return json::object{{"Containers", containers},
                      {"Created", created},
                      {"Id", rec.id},
                      {"Labels", labels},
                      {"ParentId", rec.parent},
                      {"RepoDigests", std::move(digests)},
                      {"RepoTags", std::move(tags)},
                      {"SharedSize", -1},
                      {"Size", rec.size},
                      {"VirtualSize", rec.size}};
}

Result<json::array> ImageService::list(const Filters& filters, bool /*all*/, bool digests) const {
  struct Row {
    int64_t created;
    json::object summary;
  };
  std::vector<Row> rows;
  std::optional<int64_t> before, since;
  auto created_of = [&](std::string_view name) -> Result<int64_t> {
    auto r = resolve(name);
    if (!r) return r.error();
    return r->config.created_unix_nano();
  };
  if (auto it = filters.find("before"); it != filters.end() && !it->second.empty()) {
    auto t = created_of(*it->second.begin());
    if (!t) return t.error();
    before = *t;
  }
  if (auto it = filters.find("since"); it != filters.end() && !it->second.empty()) {
    auto t = created_of(*it->second.begin());
    if (!t) return t.error();
    since = *t;
  }
  std::optional<int64_t> until;
  if (auto it = filters.find("until"); it != filters.end() && !it->second.empty()) {
    until = filter_time(*it->second.begin());
    if (!until) return make_error(ErrorCode::kInvalidArgument, "invalid until filter");
  }
  std::optional<bool> dangling;
  if (auto it = filters.find("dangling"); it != filters.end() && !it->second.empty()) {
    const auto& v = *it->second.begin();
    if (v == "true" || v == "1") dangling = true;
    else if (v == "false" || v == "0") dangling = false;
    else return make_error(ErrorCode::kInvalidArgument, "invalid filter 'dangling=" + v + "'");
  }
  for (const auto& rec : store_.images()) {
    auto bytes = content_.read(rec.id);
    if (!bytes) continue;
    auto config = ImageConfig::parse(std::move(*bytes));
    if (!config) continue;
    auto refs = store_.references(rec.id);
    bool has_tags = std::any_of(refs.begin(), refs.end(), [](const std::string& r) { return !is_digest_ref(r); });
    if (dangling && *dangling == has_tags) continue;
    if (auto it = filters.find("label"); it != filters.end() &&
                                         !label_matches(config->container_config(), it->second)) {
      continue;
    }
    if (auto it = filters.find("reference"); it != filters.end() && !it->second.empty() &&
                                             !reference_matches(refs, it->second)) {
      continue;
    }
    int64_t created = config->created_unix_nano();
    if (before && created >= *before) continue;
    if (since && created <= *since) continue;
    if (until && created > *until) continue;
    rows.push_back({created, summary(rec, *config, digests)});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.created > b.created; });
  json::array out;
  for (auto& r : rows) out.push_back(std::move(r.summary));
  return out;
}

Result<json::object> ImageService::inspect(std::string_view name) const {
  auto img = resolve(name);
  if (!img) return img.error();
  const auto& rec = img->record;
  const auto& cfg = img->config;
  json::array tags;
  for (const auto& t : repo_tags(rec.id)) tags.emplace_back(t);
  json::array digests;
  for (const auto& d : repo_digests(rec.id)) digests.emplace_back(d);
  json::array layers;
  for (const auto& d : cfg.diff_ids()) layers.emplace_back(d);
  json::object container_config = full_container_config(cfg.container_config());
  json::object out{{"Id", rec.id},
                   {"RepoTags", std::move(tags)},
                   {"RepoDigests", std::move(digests)},
                   {"Parent", rec.parent},
                   {"Comment", cfg.comment()},
                   {"Created", rfc3339_nano(cfg.created_unix_nano())},
                   {"Container", ""},
                   {"ContainerConfig", full_container_config({})},
                   {"DockerVersion", ""},
                   {"Author", cfg.author()},
                   {"Config", std::move(container_config)},
                   {"Architecture", cfg.architecture()},
                   {"Os", cfg.os()},
                   {"Size", rec.size},
                   {"VirtualSize", rec.size},
                   {"GraphDriver", json::object{{"Data", nullptr}, {"Name", storage_name_}}},
                   {"RootFS", json::object{{"Type", "layers"}, {"Layers", std::move(layers)}}},
                   {"Metadata", json::object{{"LastTagTime", rfc3339_nano(rec.last_tag_unix_nano)}}}};
  return out;
}

Result<json::array> ImageService::history(std::string_view name) const {
  auto img = resolve(name);
  if (!img) return img.error();
  const auto& cfg = img->config;
  const auto& diffs = cfg.diff_ids();
  // Pair history entries with layers: every non-empty entry owns the next diff id.
  std::vector<json::object> rows;
  std::string chain;
  size_t layer_index = 0;
  auto entries = cfg.history();
  if (entries.empty()) {
    for (size_t i = 0; i < diffs.size(); ++i) entries.push_back(HistoryEntry{cfg.created_unix_nano() / 1000000000});
  }
  for (const auto& h : entries) {
    int64_t size = 0;
    if (!h.empty_layer && layer_index < diffs.size()) {
      chain = chain_id(chain, diffs[layer_index++]);
      if (auto l = store_.layer(chain)) size = l->size;
    }
    rows.push_back(json::object{{"Comment", h.comment},
                                {"Created", h.created_unix},
                                {"CreatedBy", h.created_by},
                                {"Id", "<missing>"},
                                {"Size", size},
                                {"Tags", nullptr}});
  }
  json::array out;
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) out.push_back(std::move(*it));
  if (!out.empty()) {
    auto& top = out[0].as_object();
    top["Id"] = img->record.id;
    json::array tags;
    for (const auto& t : repo_tags(img->record.id)) tags.emplace_back(t);
    top["Tags"] = tags.empty() ? json::value(nullptr) : json::value(std::move(tags));
  }
  return out;
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

Result<std::vector<DeleteItem>> ImageService::delete_image(const ImageRecord& rec,
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
  for (const auto& chain : release_layers(rec.top_chain)) items.push_back({"", chain});
  return items;
}

Result<std::vector<DeleteItem>> ImageService::remove(std::string_view name, bool force,
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
    auto rest = delete_image(rec, prune_parents);
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
  return delete_image(rec, prune_parents);
}

Result<std::pair<std::vector<DeleteItem>, int64_t>> ImageService::prune(const Filters& filters) {
  bool dangling_only = true;
  if (auto it = filters.find("dangling"); it != filters.end() && !it->second.empty()) {
    const auto& v = *it->second.begin();
    if (v == "false" || v == "0") dangling_only = false;
    else if (v != "true" && v != "1") {
      return make_error(ErrorCode::kInvalidArgument, "invalid filter 'dangling=" + v + "'");
    }
  }
  std::optional<int64_t> until;
  if (auto it = filters.find("until"); it != filters.end() && !it->second.empty()) {
    until = filter_time(*it->second.begin());
    if (!until) return make_error(ErrorCode::kInvalidArgument, "invalid until filter");
  }
  std::vector<DeleteItem> items;
  int64_t reclaimed = 0;
  std::lock_guard lock(mutex_);
  for (const auto& rec : store_.images()) {
    auto refs = store_.references(rec.id);
    bool has_tags = std::any_of(refs.begin(), refs.end(), [](const std::string& r) { return !is_digest_ref(r); });
    if (dangling_only && has_tags) continue;
    ImageUsers users = image_users ? image_users(rec.id) : ImageUsers{};
    if (!users.running.empty() || !users.stopped.empty()) continue;
    auto bytes = content_.read(rec.id);
    if (!bytes) continue;
    auto config = ImageConfig::parse(std::move(*bytes));
    if (!config) continue;
    if (until && config->created_unix_nano() > *until) continue;
    if (auto it = filters.find("label"); it != filters.end() &&
                                         !label_matches(config->container_config(), it->second)) {
      continue;
    }
    auto deleted = delete_image(rec, true);
    if (!deleted) continue;
    reclaimed += rec.size;
    items.insert(items.end(), deleted->begin(), deleted->end());
  }
  return std::make_pair(std::move(items), reclaimed);
}

}  // namespace berth::core::image
