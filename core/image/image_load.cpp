// docker load: the legacy docker save layout (manifest.json + <id>/layer.tar), Docker >= 25's
// layout, and a plain OCI image layout (index.json + blobs/). The outer tar is read once, as a
// stream: small files are kept in memory, large ones go straight into the content store. Every
// layer is checked against the config's diff ids before it is registered; a failed load leaves
// no image, layer or blob behind.
#include <archive.h>
#include <archive_entry.h>

#include <boost/json.hpp>
#include <filesystem>

#include "core/common/host_info.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/image/image_service.hpp"
#include "core/layer/archive_source.hpp"
#include "core/layer/compression.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

using json_fields::str;

// Small members (manifests, configs, indexes) are kept in memory, within a budget for the whole
// archive: whatever its shape, a load holds at most this much, and the rest is spooled to disk.
constexpr size_t kInMemoryLimit = 1 << 20;
constexpr size_t kInMemoryBudget = 16 << 20;
constexpr int64_t kMaxMetadataFile = 8 << 20;  // a manifest, index or config

Error invalid(const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument, "invalid image archive: " + what);
}

// "./a/../b" → "b"; entries are addressed by their cleaned relative path.
std::string clean(std::string_view path) {
  return std::filesystem::path(std::string(path)).lexically_normal().relative_path().string();
}

struct ArchiveFiles {
  std::map<std::string, std::string> small;     // path → content
  std::map<std::string, std::string> blobs;     // path → content-store digest of its bytes
  std::map<std::string, std::string> links;     // symlink path → target path
  std::vector<std::string> ingested;            // digests this load added
};

Result<json::value> parse_json(const std::string& text, const std::string& what) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return invalid(what + " is not valid JSON");
  return v;
}

}  // namespace

Result<std::vector<std::string>> ImageService::load(sdk::Context& ctx, Reader& tar, const ProgressFn& progress) {
  auto log = logging::get("image");
  ArchiveFiles files;
  auto cleanup_blobs = [&] {
    for (const auto& d : files.ingested) remove_unused_blob(d);
  };

  // ---- read the outer archive ---------------------------------------------------------------
  {
    layer::ArchivePtr a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    layer::ArchiveSource source(tar);
    if (source.open(a.get()) != ARCHIVE_OK) {
      return invalid(archive_error_string(a.get()) ? archive_error_string(a.get()) : "unreadable");
    }
    archive_entry* entry = nullptr;
    std::string buf(1 << 20, '\0');
    size_t in_memory = 0;
    for (;;) {
      int rc = archive_read_next_header(a.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        cleanup_blobs();
        if (source.error()) return source.error()->wrap("read image archive");
        // A tar that just ends (no end-of-archive blocks) is complete enough.
        if (!files.small.empty() || !files.blobs.empty()) {
          if (source.at_eof()) break;
        }
        const char* msg = archive_error_string(a.get());
        return invalid(msg ? msg : "truncated");
      }
      // A header may carry no name (or no link target) at all: nothing to address it by.
      const char* raw_name = archive_entry_pathname(entry);
      if (raw_name == nullptr) raw_name = archive_entry_pathname_utf8(entry);
      if (raw_name == nullptr) continue;
      std::string path = clean(raw_name);
      auto type = archive_entry_filetype(entry);
      if (type == AE_IFLNK) {
        const char* link = archive_entry_symlink(entry);
        if (link == nullptr) link = archive_entry_symlink_utf8(entry);
        if (link == nullptr) continue;
        auto target = std::filesystem::path(path).parent_path() / link;
        files.links[path] = target.lexically_normal().string();
        continue;
      }
      if (type != AE_IFREG) continue;
      int64_t size = archive_entry_size(entry);
      if (size >= 0 && static_cast<size_t>(size) <= kInMemoryLimit &&
          in_memory + static_cast<size_t>(size) <= kInMemoryBudget) {
        in_memory += static_cast<size_t>(size);
        std::string content;
        for (;;) {
          la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
          if (n < 0) {
            cleanup_blobs();
            return invalid(std::string("read ") + path);
          }
          if (n == 0) break;
          content.append(buf.data(), static_cast<size_t>(n));
        }
        files.small[path] = std::move(content);
        continue;
      }
      auto ingest = content_.begin();
      if (!ingest) {
        cleanup_blobs();
        return ingest.error();
      }
      for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0) {
          ingest->abort();
          cleanup_blobs();
          return invalid("read " + path + ": " +
                         (archive_error_string(a.get()) ? archive_error_string(a.get()) : "error"));
        }
        if (n == 0) break;
        if (auto s = ingest->write(std::string_view(buf.data(), static_cast<size_t>(n))); !s) {
          ingest->abort();
          cleanup_blobs();
          return s.error();
        }
      }
      auto digest = ingest->commit();
      if (!digest) {
        cleanup_blobs();
        return digest.error();
      }
      files.blobs[path] = *digest;
      files.ingested.push_back(*digest);
    }
  }

  auto resolve_link = [&](std::string path) {
    for (int hops = 0; hops < 8; ++hops) {
      auto it = files.links.find(path);
      if (it == files.links.end()) break;
      path = it->second;
    }
    return path;
  };
  auto bytes_of = [&](const std::string& raw_path) -> Result<std::string> {
    std::string path = resolve_link(clean(raw_path));
    if (auto it = files.small.find(path); it != files.small.end()) return it->second;
    if (auto it = files.blobs.find(path); it != files.blobs.end()) {
      // Metadata is read whole: bounded, whatever the archive claims.
      auto size = content_.size(it->second);
      if (!size) return size.error();
      if (*size > kMaxMetadataFile) {
        return invalid(path + " is " + std::to_string(*size) + " bytes; metadata files are limited to " +
                       std::to_string(kMaxMetadataFile >> 20) + " MiB");
      }
      return content_.read(it->second);
    }
    return invalid("missing file " + path);
  };
  // Streams the layer at `raw_path` (any compression) into the layer store, checked against
  // `diff_id`; nothing is read when that layer is already stored.
  auto ingest = [&](const std::string& parent_chain, const std::string& raw_path,
                    const std::string& diff_id) -> Result<LayerRecord> {
    std::string path = resolve_link(clean(raw_path));
    if (auto it = files.small.find(path); it != files.small.end()) {
      StringReader in(it->second);
      return ingest_layer(ctx, parent_chain, in, diff_id);
    }
    auto it = files.blobs.find(path);
    if (it == files.blobs.end()) return invalid("missing layer " + path);
    auto fd = content_.open_blob(it->second);
    if (!fd) return fd.error();
    FdReader in(fd->get());
    auto rec = ingest_layer(ctx, parent_chain, in, diff_id);
    if (!rec) return std::move(rec).error().wrap("invalid image archive: layer " + path);
    return rec;
  };

  // ---- find the images --------------------------------------------------------------------
  struct Entry {
    std::string config_path;
    std::vector<std::string> layer_paths;
    std::vector<std::string> tags;  // as written in the archive
  };
  std::vector<Entry> entries;
  if (files.small.contains("manifest.json")) {
    auto v = parse_json(files.small["manifest.json"], "manifest.json");
    if (!v) return cleanup_blobs(), v.error();
    if (!v->is_array()) return cleanup_blobs(), invalid("manifest.json must be an array");
    for (const auto& m : v->get_array()) {
      if (!m.is_object()) return cleanup_blobs(), invalid("manifest.json entries must be objects");
      Entry e;
      e.config_path = str(m.get_object(), "Config");
      if (const auto* l = m.get_object().if_contains("Layers"); l != nullptr && l->is_array()) {
        for (const auto& p : l->get_array()) {
          if (p.is_string()) e.layer_paths.emplace_back(p.get_string());
        }
      }
      if (const auto* t = m.get_object().if_contains("RepoTags"); t != nullptr && t->is_array()) {
        for (const auto& p : t->get_array()) {
          if (p.is_string()) e.tags.emplace_back(p.get_string());
        }
      }
      if (e.config_path.empty()) return cleanup_blobs(), invalid("manifest.json entry without Config");
      entries.push_back(std::move(e));
    }
  } else if (files.small.contains("index.json")) {
    // OCI layout: index → (nested indexes →) manifests.
    std::function<Status(const std::string&, const std::vector<std::string>&, int)> walk;
    walk = [&](const std::string& text, const std::vector<std::string>& names, int depth) -> Status {
      if (depth > 4) return invalid("index nesting is too deep");
      auto v = parse_json(text, "index");
      if (!v || !v->is_object()) return invalid("index is not an object");
      const auto* manifests = v->get_object().if_contains("manifests");
      if (manifests == nullptr || !manifests->is_array()) return invalid("index without manifests");
      for (const auto& d : manifests->get_array()) {
        if (!d.is_object()) continue;
        const auto& desc = d.get_object();
        std::string media = str(desc, "mediaType");
        std::string digest = str(desc, "digest");
        if (!is_valid_digest(digest)) return invalid("bad digest in index");
        if (const auto* p = desc.if_contains("platform"); p != nullptr && p->is_object()) {
          std::string os = str(p->get_object(), "os");
          std::string arch = str(p->get_object(), "architecture");
          if ((!os.empty() && os != "linux") || (!arch.empty() && arch != read_host_info().go_arch)) continue;
        }
        std::vector<std::string> tags = names;
        if (const auto* ann = desc.if_contains("annotations"); ann != nullptr && ann->is_object()) {
          std::string full = str(ann->get_object(), "io.containerd.image.name");
          if (full.empty()) {
            std::string ref_name = str(ann->get_object(), "org.opencontainers.image.ref.name");
            // A bare tag ("latest") names no repository; only full references become tags.
            if (ref_name.find_first_of("/:") != std::string::npos) full = ref_name;
          }
          if (!full.empty()) tags.push_back(full);
        }
        auto blob = bytes_of("blobs/sha256/" + digest.substr(7));
        if (!blob) return blob.error();
        if (Sha256::of(*blob) != digest) return invalid("blob " + digest + " does not match its digest");
        if (media == kOciIndexType || media == kDockerManifestListType) {
          BERTH_TRY_STATUS(walk(*blob, tags, depth + 1));
          continue;
        }
        auto m = parse_json(*blob, "manifest " + digest);
        if (!m || !m->is_object()) return invalid("manifest " + digest + " is not an object");
        const auto& mo = m->get_object();
        Entry e;
        const auto* config = mo.if_contains("config");
        if (config == nullptr || !config->is_object()) return invalid("manifest without config");
        e.config_path = "blobs/sha256/" + str(config->get_object(), "digest").substr(7);
        if (const auto* layers = mo.if_contains("layers"); layers != nullptr && layers->is_array()) {
          for (const auto& l : layers->get_array()) {
            if (!l.is_object()) continue;
            std::string ld = str(l.get_object(), "digest");
            if (!is_valid_digest(ld)) return invalid("bad layer digest in manifest");
            e.layer_paths.push_back("blobs/sha256/" + ld.substr(7));
          }
        }
        e.tags = tags;
        entries.push_back(std::move(e));
      }
      return {};
    };
    if (auto s = walk(files.small["index.json"], {}, 0); !s) {
      cleanup_blobs();
      return s.error();
    }
  } else {
    cleanup_blobs();
    return invalid("neither manifest.json nor index.json found");
  }
  if (entries.empty()) {
    cleanup_blobs();
    return invalid("it holds no image for linux/" + read_host_info().go_arch);
  }

  // ---- check every image, then register -------------------------------------------------------
  struct Ready {
    std::string config;
    std::vector<std::string> diff_ids;
    std::vector<std::string> layer_paths;
    std::vector<Reference> tags;
  };
  std::vector<Ready> ready;
  for (const auto& e : entries) {
    auto config_bytes = bytes_of(e.config_path);
    if (!config_bytes) return cleanup_blobs(), config_bytes.error();
    auto config = ImageConfig::parse(*config_bytes);
    if (!config) return cleanup_blobs(), config.error().wrap("invalid image archive");
    if (config->diff_ids().size() != e.layer_paths.size()) {
      cleanup_blobs();
      return invalid("config lists " + std::to_string(config->diff_ids().size()) +
                     " layers but the manifest has " + std::to_string(e.layer_paths.size()));
    }
    Ready r{*config_bytes, config->diff_ids(), e.layer_paths, {}};
    for (const auto& path : e.layer_paths) {
      std::string p = resolve_link(clean(path));
      if (!files.small.contains(p) && !files.blobs.contains(p)) {
        return cleanup_blobs(), invalid("missing layer " + p);
      }
    }
    for (const auto& t : e.tags) {
      auto ref = parse_normalized_tagged(t);
      if (!ref) return cleanup_blobs(), ref.error().wrap("invalid image archive: tag \"" + t + "\"");
      r.tags.push_back(*ref);
    }
    ready.push_back(std::move(r));
  }

  std::vector<std::string> lines;
  for (const auto& r : ready) {
    std::string chain;
    std::vector<std::string> registered;
    for (size_t i = 0; i < r.diff_ids.size(); ++i) {
      const auto& diff = r.diff_ids[i];
      auto existed = store_.layer(chain_id(chain, diff)).has_value();
      auto layer_rec = ingest(chain, r.layer_paths[i], diff);
      if (!layer_rec) {
        if (!chain.empty()) release_layers(ctx, chain);
        cleanup_blobs();
        return layer_rec.error();
      }
      chain = layer_rec->chain_id;
      if (progress) {
        progress(json::object{{"status", existed ? "Already exists" : "Loading layer"},
                              {"progressDetail", json::object{{"current", layer_rec->size}, {"total", layer_rec->size}}},
                              {"id", diff.substr(7, 12)}});
      }
    }
    auto id = create_image(r.config, "");
    if (!id) {
      release_layers(ctx, chain);
      cleanup_blobs();
      return id.error();
    }
    publish("load", *id, "");
    if (r.tags.empty()) {
      lines.push_back("Loaded image ID: " + *id);
      continue;
    }
    std::lock_guard lock(mutex_);
    for (const auto& t : r.tags) {
      if (auto previous = store_.lookup(t.string()); previous && *previous != *id) {
        lines.push_back("The image " + t.familiar_string() + " already exists, renaming the old one with ID " +
                        *previous + " to empty string");
      }
      if (auto s = set_tag(t, *id); !s) return s.error();
      lines.push_back("Loaded image: " + t.familiar_string());
    }
  }
  cleanup_blobs();  // the layer tars, now stored as snapshots, and files nothing refers to
  log->info("loaded {} image(s)", ready.size());
  return lines;
}

}  // namespace berth::core::image
