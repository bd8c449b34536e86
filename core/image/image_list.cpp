// Images as clients read them: list (with Docker's filters), inspect, history; and prune, which
// picks its images with the same filters.
#include "core/image/image_service.hpp"

#include <boost/json.hpp>

#include "berth/sdk/mount.hpp"
#include "core/common/fs.hpp"
#include "core/common/host_info.hpp"
#include "core/common/ids.hpp"
#include "core/common/label_filter.hpp"
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

// Docker's "until"/"before"-style time filter values: durations are not accepted here, only
// timestamps (the CLI converts durations itself).
std::optional<int64_t> filter_time(const std::string& v) { return parse_timestamp_param(v); }

// The image's labels as the shared label matcher reads them (Labels in the container config).
std::map<std::string, std::string> image_labels(const json::object& config) {
  std::map<std::string, std::string> out;
  if (const auto* l = config.if_contains("Labels"); l != nullptr && l->is_object()) {
    for (const auto& [k, v] : l->get_object()) {
      if (v.is_string()) out.emplace(std::string(k), std::string(v.get_string()));
    }
  }
  return out;
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

json::object ImageService::summary(const ImageRecord& rec, const ImageConfig& config, bool /*digests*/,
                                   const std::set<std::string>* reference_patterns) const {
  // With a reference filter only the names that match it are listed, as dockerd does.
  auto shown = [&](const std::string& ref) {
    return reference_patterns == nullptr || reference_matches({ref}, *reference_patterns);
  };
  json::array tags;
  for (const auto& t : repo_tags(rec.id)) {
    if (shown(t)) tags.emplace_back(t);
  }
  json::array digests;
  for (const auto& d : repo_digests(rec.id)) {
    if (shown(d)) digests.emplace_back(d);
  }
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
  auto window = created_window(filters, [&](const std::string& name) -> Result<int64_t> {
    auto r = resolve(name);
    if (!r) return r.error();
    return r->config.created_unix_nano();
  });
  if (!window) return window.error();
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
                                         !labels_match(image_labels(config->container_config()), it->second)) {
      continue;
    }
    const std::set<std::string>* patterns = nullptr;
    if (auto it = filters.find("reference"); it != filters.end() && !it->second.empty()) patterns = &it->second;
    int64_t created = config->created_unix_nano();
    if (!window->admits(created)) continue;
    if (until && created > *until) continue;
    auto row = summary(rec, *config, digests, patterns);
    // An image none of whose names matches is not listed.
    if (patterns != nullptr && row.at("RepoTags").as_array().empty() && row.at("RepoDigests").as_array().empty()) continue;
    rows.push_back({created, std::move(row)});
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

Result<std::pair<std::vector<DeleteItem>, int64_t>> ImageService::prune(sdk::Context& ctx, const Filters& filters) {
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
                                         !labels_match(image_labels(config->container_config()), it->second)) {
      continue;
    }
    auto deleted = delete_image(ctx, rec, true);
    if (!deleted) continue;
    reclaimed += rec.size;
    items.insert(items.end(), deleted->begin(), deleted->end());
  }
  return std::make_pair(std::move(items), reclaimed);
}

}  // namespace berth::core::image
