// The build cache index (see build_cache.hpp).
#include "core/build/build_cache.hpp"

#include <boost/json.hpp>

#include "core/common/fs.hpp"
#include "core/common/json_text.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"

namespace berth::core::build {

namespace json = boost::json;

BuildCache::BuildCache(std::string path) : path_(std::move(path)) { load(); }

void BuildCache::load() {
  auto text = fs::read_file(path_);
  if (!text) return;
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) {
    logging::get("build")->warn("ignoring an unreadable build cache index {}", path_);
    return;
  }
  for (const auto& [k, e] : v.get_object()) {
    if (!e.is_object()) continue;
    const auto& o = e.get_object();
    Entry entry;
    entry.key = std::string(k);
    if (const auto* id = o.if_contains("image"); id && id->is_string()) entry.image_id = std::string(id->get_string());
    if (const auto* c = o.if_contains("created"); c && c->is_int64()) entry.created = c->get_int64();
    if (const auto* s = o.if_contains("size"); s && s->is_int64()) entry.size = s->get_int64();
    if (!entry.image_id.empty()) entries_[entry.key] = entry;
  }
}

void BuildCache::save_locked() const {
  json::object out;
  for (const auto& [k, e] : entries_) {
    out[k] = json::object{{"image", e.image_id}, {"created", e.created}, {"size", e.size}};
  }
  if (auto s = fs::atomic_write(path_, json_text::serialize(out), 0600); !s) {
    logging::get("build")->warn("could not write the build cache index {}: {}", path_, s.error().message);
  }
}

std::optional<std::string> BuildCache::lookup(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.image_id;
}

void BuildCache::record(const std::string& key, const std::string& image_id, int64_t size) {
  std::lock_guard lock(mutex_);
  entries_[key] = Entry{key, image_id, now_unix_nano() / 1000000000, size};
  save_locked();
}

std::vector<BuildCache::Entry> BuildCache::entries() const {
  std::lock_guard lock(mutex_);
  std::vector<Entry> out;
  for (const auto& [k, e] : entries_) out.push_back(e);
  return out;
}

std::vector<BuildCache::Entry> BuildCache::prune(std::optional<int64_t> until) {
  std::lock_guard lock(mutex_);
  std::vector<Entry> dropped;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!until || it->second.created < *until) {
      dropped.push_back(it->second);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  save_locked();
  return dropped;
}

std::string BuildCache::key_of(const std::vector<std::string>& parts) {
  Sha256 h;
  for (const auto& p : parts) {
    h.update(p);
    h.update(std::string_view("\0", 1));
  }
  return h.digest();
}

}  // namespace berth::core::build
