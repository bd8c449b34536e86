#include "core/image/image_store.hpp"

#include <boost/json.hpp>

#include "core/common/fs.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

std::string hex_of(const std::string& digest) {
  return digest.size() > 7 ? digest.substr(7) : digest;
}

using json_fields::str;
using json_fields::num;
using json_fields::flag;


json::object image_json(const ImageRecord& r) {
  json::array digests;
  for (const auto& d : r.repo_digests) digests.emplace_back(d);
  return json::object{{"id", r.id},
                      {"added_unix_nano", r.added_unix_nano},
                      {"last_tag_unix_nano", r.last_tag_unix_nano},
                      {"parent", r.parent},
                      {"repo_digests", std::move(digests)},
                      {"top_chain", r.top_chain},
                      {"size", r.size}};
}

ImageRecord image_of(const json::object& o) {
  ImageRecord r;
  r.id = str(o, "id");
  r.added_unix_nano = num(o, "added_unix_nano");
  r.last_tag_unix_nano = num(o, "last_tag_unix_nano");
  r.parent = str(o, "parent");
  if (const auto* d = o.if_contains("repo_digests"); d != nullptr && d->is_array()) {
    for (const auto& s : d->get_array()) {
      if (s.is_string()) r.repo_digests.emplace_back(s.get_string());
    }
  }
  r.top_chain = str(o, "top_chain");
  r.size = num(o, "size");
  return r;
}

json::object layer_json(const LayerRecord& r) {
  return json::object{{"chain_id", r.chain_id},
                      {"diff_id", r.diff_id},
                      {"parent_chain", r.parent_chain},
                      {"size", r.size},
                      {"created_unix_nano", r.created_unix_nano},
                      {"tar_size", r.tar_size},
                      {"split", r.split}};
}

LayerRecord layer_of(const json::object& o) {
  return LayerRecord{str(o, "chain_id"), str(o, "diff_id"), str(o, "parent_chain"), num(o, "size"),
                     num(o, "created_unix_nano"), num(o, "tar_size"), flag(o, "split")};
}

Result<json::object> read_object(const std::filesystem::path& path) {
  auto text = fs::read_file(path);
  if (!text) return text.error();
  json::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) {
    return make_error(ErrorCode::kInternal, path.string() + " is corrupt: not a JSON object");
  }
  return std::move(v.get_object());
}

}  // namespace

std::string chain_id(const std::string& parent_chain, const std::string& diff_id) {
  if (parent_chain.empty()) return diff_id;
  return Sha256::of(parent_chain + " " + diff_id);
}

Result<std::unique_ptr<ImageStore>> ImageStore::open(const std::filesystem::path& dir) {
  std::unique_ptr<ImageStore> store(new ImageStore(dir));
  BERTH_TRY_STATUS(fs::ensure_dir(dir / "images", 0700));
  BERTH_TRY_STATUS(fs::ensure_dir(dir / "layers", 0700));
  BERTH_TRY_STATUS(store->load());
  return store;
}

Status ImageStore::load() {
  auto log = logging::get("image");
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "images", ec)) {
    if (entry.path().extension() != ".json") continue;  // temp files of an interrupted write
    auto o = read_object(entry.path());
    if (!o) {
      log->warn("skipping image record: {}", o.error().message);
      continue;
    }
    auto r = image_of(*o);
    images_[r.id] = r;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "layers", ec)) {
    if (entry.path().extension() != ".json") continue;
    auto o = read_object(entry.path());
    if (!o) {
      log->warn("skipping layer record: {}", o.error().message);
      continue;
    }
    auto r = layer_of(*o);
    layers_[r.chain_id] = r;
  }
  if (std::filesystem::exists(dir_ / "references.json")) {
    auto o = read_object(dir_ / "references.json");
    if (!o) return o.error();
    for (const auto& [ref, id] : *o) {
      if (id.is_string() && images_.contains(std::string(id.get_string()))) {
        refs_[std::string(ref)] = std::string(id.get_string());
      }
    }
  }
  return {};
}

std::optional<ImageRecord> ImageStore::image(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = images_.find(id);
  if (it == images_.end()) return std::nullopt;
  return it->second;
}

std::vector<ImageRecord> ImageStore::images() const {
  std::lock_guard lock(mutex_);
  std::vector<ImageRecord> out;
  for (const auto& [_, r] : images_) out.push_back(r);
  return out;
}

Status ImageStore::put_image(const ImageRecord& record) {
  std::lock_guard lock(mutex_);
  BERTH_TRY_STATUS(fs::atomic_write(dir_ / "images" / (hex_of(record.id) + ".json"),
                                    json::serialize(image_json(record)), 0600));
  images_[record.id] = record;
  return {};
}

Status ImageStore::remove_image(const std::string& id) {
  std::lock_guard lock(mutex_);
  bool refs_changed = false;
  for (auto it = refs_.begin(); it != refs_.end();) {
    if (it->second == id) {
      it = refs_.erase(it);
      refs_changed = true;
    } else {
      ++it;
    }
  }
  if (refs_changed) BERTH_TRY_STATUS(save_references());
  std::error_code ec;
  std::filesystem::remove(dir_ / "images" / (hex_of(id) + ".json"), ec);
  if (ec) return make_error(ErrorCode::kInternal, "remove image record: " + ec.message());
  images_.erase(id);
  return {};
}

std::vector<std::string> ImageStore::references(const std::string& id) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [ref, target] : refs_) {
    if (target == id) out.push_back(ref);
  }
  return out;
}

std::optional<std::string> ImageStore::lookup(const std::string& reference) const {
  std::lock_guard lock(mutex_);
  auto it = refs_.find(reference);
  if (it == refs_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> ImageStore::all_references() const {
  std::lock_guard lock(mutex_);
  return refs_;
}

Status ImageStore::save_references() const {
  json::object o;
  for (const auto& [ref, id] : refs_) o[ref] = id;
  return fs::atomic_write(dir_ / "references.json", json::serialize(o), 0600);
}

Status ImageStore::set_reference(const std::string& reference, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto old = refs_.find(reference);
  std::optional<std::string> previous;
  if (old != refs_.end()) previous = old->second;
  refs_[reference] = id;
  if (auto s = save_references(); !s) {
    if (previous) refs_[reference] = *previous;
    else refs_.erase(reference);
    return s;
  }
  return {};
}

Status ImageStore::remove_reference(const std::string& reference) {
  std::lock_guard lock(mutex_);
  auto it = refs_.find(reference);
  if (it == refs_.end()) return {};
  std::string id = it->second;
  refs_.erase(it);
  if (auto s = save_references(); !s) {
    refs_[reference] = id;
    return s;
  }
  return {};
}

std::optional<LayerRecord> ImageStore::layer(const std::string& chain) const {
  std::lock_guard lock(mutex_);
  auto it = layers_.find(chain);
  if (it == layers_.end()) return std::nullopt;
  return it->second;
}

std::vector<LayerRecord> ImageStore::layers() const {
  std::lock_guard lock(mutex_);
  std::vector<LayerRecord> out;
  for (const auto& [_, r] : layers_) out.push_back(r);
  return out;
}

Status ImageStore::put_layer(const LayerRecord& record) {
  std::lock_guard lock(mutex_);
  BERTH_TRY_STATUS(fs::atomic_write(dir_ / "layers" / (hex_of(record.chain_id) + ".json"),
                                    json::serialize(layer_json(record)), 0600));
  layers_[record.chain_id] = record;
  return {};
}

Status ImageStore::remove_layer(const std::string& chain) {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  std::filesystem::remove(dir_ / "layers" / (hex_of(chain) + ".json"), ec);
  if (ec) return make_error(ErrorCode::kInternal, "remove layer record: " + ec.message());
  layers_.erase(chain);
  // Without its record a split is an orphan either way (startup removes those too).
  std::filesystem::remove(split_path(chain), ec);
  std::filesystem::remove(captures_path(chain), ec);
  return {};
}

std::filesystem::path ImageStore::split_path(const std::string& chain) const {
  return dir_ / "layers" / (hex_of(chain) + ".split");
}

std::filesystem::path ImageStore::captures_path(const std::string& chain) const {
  return dir_ / "layers" / (hex_of(chain) + ".captures");
}

int64_t ImageStore::metadata_bytes() const {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "layers", ec)) {
    auto size = entry.file_size(ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

}  // namespace berth::core::image
