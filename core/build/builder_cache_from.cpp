// --cache-from: images whose history stands in for the build cache, as Docker's legacy builder
// uses them (image/cache in moby). A step matches a source image when the source's history and
// layers start with the current image's, and its next history entry was made by the same
// instruction (same created_by). Then the step is not run: the next layer (if the entry has one)
// and history entry are taken from the source, under the config the step would have produced.
// This works for images loaded from elsewhere (a CI's last push), which have no cache entries.
#include <boost/json.hpp>

#include "core/build/build_run.hpp"
#include "core/common/logging.hpp"
#include "core/image/image_config.hpp"

namespace berth::core::build {

namespace json = boost::json;

namespace {

const json::array& array_at(const json::object& doc, std::string_view key, std::string_view inner = {}) {
  static const json::array kEmpty;
  const json::value* v = doc.if_contains(key);
  if (v != nullptr && !inner.empty()) v = v->is_object() ? v->get_object().if_contains(inner) : nullptr;
  return v != nullptr && v->is_array() ? v->get_array() : kEmpty;
}

bool is_empty_layer(const json::value& entry) {
  const auto* e = entry.is_object() ? entry.get_object().if_contains("empty_layer") : nullptr;
  return e != nullptr && e->is_bool() && e->get_bool();
}

std::string created_by_of(const json::value& entry) {
  const auto* c = entry.is_object() ? entry.get_object().if_contains("created_by") : nullptr;
  return c != nullptr && c->is_string() ? std::string(c->get_string()) : std::string();
}

}  // namespace

void Builder::Run::load_cache_sources() {
  std::lock_guard lock(cache_sources_mutex);
  if (cache_sources_loaded) return;
  cache_sources_loaded = true;
  for (const auto& name : options.cache_from) {
    auto img = builder.images_.resolve(name);
    if (!img) {
      // As dockerd: a source that is not here is skipped, not an error.
      logging::get("build")->warn("--cache-from {}: {}; not used", name, img.error().message);
      continue;
    }
    cache_sources.push_back(CacheSource{img->record.id, img->config.json()});
  }
}

bool Builder::Run::cache_from_hit(StageState& st, const std::string& created_by, const std::string& cache_key) {
  if (options.cache_from.empty() || options.no_cache) return false;
  load_cache_sources();
  const json::array& history = array_at(st.image, "history");
  const json::array& diff_ids = array_at(st.image, "rootfs", "diff_ids");
  const size_t n = st.image_id.empty() ? 0 : history.size();
  for (const auto& src : cache_sources) {
    const json::array& src_history = array_at(src.doc, "history");
    const json::array& src_diffs = array_at(src.doc, "rootfs", "diff_ids");
    if (src_history.size() <= n || src_diffs.size() < diff_ids.size()) continue;
    bool prefix = st.image_id.empty() || (std::equal(history.begin(), history.end(), src_history.begin()) &&
                                          std::equal(diff_ids.begin(), diff_ids.end(), src_diffs.begin()));
    if (!prefix || created_by_of(src_history[n]) != created_by) continue;
    std::string id;
    if (src_history.size() == n + 1) {
      id = src.id;  // the source image itself is this step's result
    } else {
      // A new image for the step: the current one plus the source's next entry (and layer).
      json::object doc = st.image;
      json::array new_history = history;
      new_history.push_back(src_history[n]);
      json::array new_diffs = diff_ids;
      if (!is_empty_layer(src_history[n])) {
        size_t layers = 0;
        for (size_t i = 0; i < n; ++i) layers += is_empty_layer(src_history[i]) ? 0 : 1;
        if (layers >= src_diffs.size()) continue;
        new_diffs.push_back(src_diffs[layers]);
      }
      const auto& entry = src_history[n].as_object();
      if (const auto* c = entry.if_contains("created"); c != nullptr) doc["created"] = *c;
      doc["history"] = std::move(new_history);
      doc["rootfs"] = json::object{{"type", "layers"}, {"diff_ids", std::move(new_diffs)}};
      if (auto* cfg = doc.if_contains("config"); cfg != nullptr && cfg->is_object()) {
        doc["config"] = image::full_container_config(cfg->get_object());
      }
      auto made = builder.images_.create_image(image::encode_config(doc), st.image_id);
      if (!made) {
        logging::get("build")->warn("--cache-from {}: {}", short_id(src.id), made.error().message);
        continue;
      }
      id = *made;
    }
    if (!adopt(st, id)) continue;
    builder.cache_.record(cache_key, id, 0);
    say(" ---> Using cache\n ---> " + short_id(st.image_id) + "\n");
    return true;
  }
  return false;
}

}  // namespace berth::core::build
