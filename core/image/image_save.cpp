// docker save: the archive Docker >= 25 writes, readable by every docker load: manifest.json
// (the legacy index) and, beside it, an OCI image layout (oci-layout, index.json,
// blobs/sha256/...). Layers are stored uncompressed, so their blob digests are the diff ids and
// a save/load round trip keeps every digest.
#include <archive.h>
#include <archive_entry.h>

#include <boost/json.hpp>
#include <memory>

#include "core/image/image_service.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

class TarOut {
 public:
  explicit TarOut(Writer& out) : out_(out), a_(archive_write_new()) {
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_per_block(a_.get(), 10240);
  }
  Status open() {
    if (archive_write_open(a_.get(), this, nullptr, &TarOut::write_cb, nullptr) != ARCHIVE_OK) {
      return error("open archive");
    }
    return {};
  }
  Status directory(const std::string& path) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                     &archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFDIR);
    archive_entry_set_perm(e.get(), 0755);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return error("write " + path);
    return {};
  }
  Status file(const std::string& path, std::string_view data) {
    BERTH_TRY_STATUS(header(path, static_cast<int64_t>(data.size())));
    if (!data.empty() && archive_write_data(a_.get(), data.data(), data.size()) < 0) {
      return error("write " + path);
    }
    return {};
  }
  // Exactly `size` bytes of `in`; `in` must end there (its last read checks the layer digest).
  Status file_from_reader(const std::string& path, Reader& in, int64_t size) {
    BERTH_TRY_STATUS(header(path, size));
    std::string buf(1 << 20, '\0');
    int64_t left = size;
    while (left > 0) {
      auto n = in.read(buf.data(), static_cast<size_t>(std::min<int64_t>(left, buf.size())));
      if (!n) return std::move(n).error().wrap("write " + path);
      if (*n == 0) return make_error(ErrorCode::kInternal, "read " + path + ": short read");
      if (archive_write_data(a_.get(), buf.data(), *n) < 0) return error("write " + path);
      left -= static_cast<int64_t>(*n);
    }
    auto end = in.read(buf.data(), 1);
    if (!end) return std::move(end).error().wrap("write " + path);
    if (*end != 0) return make_error(ErrorCode::kInternal, "read " + path + ": longer than its record says");
    return {};
  }

  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return error("finish archive");
    return {};
  }

 private:
  Status header(const std::string& path, int64_t size) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                     &archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), size);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return error("write " + path);
    return {};
  }
  Error error(const std::string& what) {
    if (sink_error_) return sink_error_->wrap(what);
    const char* msg = archive_error_string(a_.get());
    return make_error(ErrorCode::kInternal, what + ": " + (msg ? msg : "archive error"));
  }
  static la_ssize_t write_cb(archive*, void* self, const void* data, size_t size) {
    auto* t = static_cast<TarOut*>(self);
    auto s = t->out_.write(std::string_view(static_cast<const char*>(data), size));
    if (!s) {
      t->sink_error_ = s.error();
      return -1;
    }
    return static_cast<la_ssize_t>(size);
  }

  Writer& out_;
  std::unique_ptr<archive, ArchiveWriteFree> a_;
  std::optional<Error> sink_error_;
};

std::string blob_path(const std::string& digest) { return "blobs/sha256/" + digest.substr(7); }

}  // namespace

Status ImageService::save(sdk::Context& ctx, const std::vector<std::string>& names, Writer& out) {
  if (names.empty()) return make_error(ErrorCode::kInvalidArgument, "no image names given");
  struct Item {
    ResolvedImage image;
    std::vector<Reference> tags;
  };
  std::vector<Item> items;
  // Resolve everything first: a bad name fails before a byte is written.
  for (const auto& name : names) {
    auto img = resolve(name);
    if (!img) return img.error();
    std::vector<Reference> tags;
    std::string_view bare = std::string_view(name).rfind("sha256:", 0) == 0
                                ? std::string_view(name).substr(7)
                                : std::string_view(name);
    bool by_id = img->record.id.compare(7, bare.size(), bare) == 0;
    if (!by_id) {
      auto plain = parse_normalized(name);
      if (plain && plain->tag.empty() && plain->digest.empty()) {
        // "busybox" saves every tag of the repository, as docker does.
        for (const auto& [ref, id] : store_.all_references()) {
          auto r = parse_normalized(ref);
          if (r && r->name() == plain->name() && r->digest.empty()) {
            auto target = resolve(r->string());
            if (target) items.push_back({std::move(*target), {*r}});
          }
        }
        continue;
      }
      if (plain && plain->digest.empty()) tags.push_back(*plain);
    }
    items.push_back({std::move(*img), std::move(tags)});
  }
  // One entry per image, tags merged.
  std::vector<Item> merged;
  for (auto& item : items) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const Item& m) {
      return m.image.record.id == item.image.record.id;
    });
    if (it == merged.end()) {
      merged.push_back(std::move(item));
    } else {
      for (auto& t : item.tags) {
        if (std::find(it->tags.begin(), it->tags.end(), t) == it->tags.end()) it->tags.push_back(t);
      }
    }
  }

  TarOut tar(out);
  BERTH_TRY_STATUS(tar.open());
  BERTH_TRY_STATUS(tar.directory("blobs/"));
  BERTH_TRY_STATUS(tar.directory("blobs/sha256/"));
  std::set<std::string> written;
  json::array manifest_json;
  json::array index_manifests;
  for (const auto& item : merged) {
    const auto& cfg = item.image.config;
    json::array layer_paths;
    json::array oci_layers;
    std::string chain;
    for (const auto& diff : cfg.diff_ids()) {
      chain = chain_id(chain, diff);
      auto record = store_.layer(chain);
      if (!record) return make_error(ErrorCode::kNotFound, "layer " + diff.substr(7, 12) + " is not stored");
      auto size = layer_tar_size(*record);
      if (!size) return size.error().wrap("layer " + diff.substr(7, 12));
      if (written.insert(diff).second) {
        auto layer_tar = open_layer_tar(ctx, *record);
        if (!layer_tar) return layer_tar.error().wrap("layer " + diff.substr(7, 12));
        BERTH_TRY_STATUS(tar.file_from_reader(blob_path(diff), **layer_tar, *size));
      }
      layer_paths.emplace_back(blob_path(diff));
      oci_layers.push_back(json::object{{"mediaType", kOciLayerType}, {"digest", diff}, {"size", *size}});
    }
    const std::string& config_id = item.image.record.id;
    if (written.insert(config_id).second) {
      BERTH_TRY_STATUS(tar.file(blob_path(config_id), cfg.bytes()));
    }
    json::object manifest{
        {"schemaVersion", 2},
        {"mediaType", kOciManifestType},
        {"config", json::object{{"mediaType", kOciConfigType},
                                {"digest", config_id},
                                {"size", static_cast<int64_t>(cfg.bytes().size())}}},
        {"layers", std::move(oci_layers)}};
    std::string manifest_bytes = json::serialize(manifest);
    std::string manifest_digest = Sha256::of(manifest_bytes);
    if (written.insert(manifest_digest).second) {
      BERTH_TRY_STATUS(tar.file(blob_path(manifest_digest), manifest_bytes));
    }
    json::object descriptor{{"mediaType", kOciManifestType},
                            {"digest", manifest_digest},
                            {"size", static_cast<int64_t>(manifest_bytes.size())}};
    json::array repo_tags;
    if (item.tags.empty()) {
      index_manifests.push_back(descriptor);
    }
    for (const auto& t : item.tags) {
      repo_tags.emplace_back(t.familiar_string());
      json::object d = descriptor;
      d["annotations"] = json::object{{"io.containerd.image.name", t.string()},
                                      {"org.opencontainers.image.ref.name", t.tag}};
      index_manifests.push_back(std::move(d));
    }
    manifest_json.push_back(json::object{
        {"Config", blob_path(config_id)},
        {"RepoTags", repo_tags.empty() ? json::value(nullptr) : json::value(std::move(repo_tags))},
        {"Layers", std::move(layer_paths)}});
  }
  json::object index{{"schemaVersion", 2},
                     {"mediaType", kOciIndexType},
                     {"manifests", std::move(index_manifests)}};
  BERTH_TRY_STATUS(tar.file("index.json", json::serialize(index) + "\n"));
  BERTH_TRY_STATUS(tar.file("manifest.json", json::serialize(manifest_json) + "\n"));
  BERTH_TRY_STATUS(tar.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  BERTH_TRY_STATUS(tar.close());
  for (const auto& item : merged) {
    publish("save", item.image.record.id, item.tags.empty() ? "" : item.tags[0].familiar_string());
  }
  return {};
}

}  // namespace berth::core::image
