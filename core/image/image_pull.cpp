#include "core/image/image_pull.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <thread>

#include "core/common/host_info.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/image/image_config.hpp"
#include "core/image/pull_progress.hpp"
#include "core/image/registry_hosts.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

using json_fields::str;

constexpr int64_t kMaxConfig = 8 << 20;

const std::vector<std::string> kManifestTypes = {
    std::string(kDockerManifestType), std::string(kDockerManifestListType),
    std::string(kOciManifestType), std::string(kOciIndexType)};

bool is_index_type(std::string_view t) { return t == kOciIndexType || t == kDockerManifestListType; }

bool is_layer_type(std::string_view t) {
  return t == kDockerLayerGzipType || t == kDockerLayerType || t == kOciLayerType ||
         t == kOciLayerGzipType || t == kOciLayerZstdType ||
         t == "application/vnd.docker.image.rootfs.diff.tar.zstd";
}

Result<sdk::Descriptor> descriptor_of(const json::value& v, const std::string& what) {
  if (!v.is_object()) return make_error(ErrorCode::kInvalidArgument, what + " is not an object");
  const auto& o = v.get_object();
  sdk::Descriptor d{str(o, "mediaType"), str(o, "digest"), 0};
  if (const auto* s = o.if_contains("size"); s && s->is_int64()) d.size = s->get_int64();
  if (!is_valid_digest(d.digest) || d.size < 0) {
    return make_error(ErrorCode::kInvalidArgument, what + " has no valid sha256 digest and size");
  }
  return d;
}

class StringSink final : public sdk::ByteSink {
 public:
  explicit StringSink(int64_t limit) : limit_(limit) {}
  sdk::Status write(std::string_view data) override {
    if (static_cast<int64_t>(data_.size() + data.size()) > limit_) {
      return make_error(ErrorCode::kResourceExhausted,
                        "blob is larger than the " + std::to_string(limit_) + " bytes allowed");
    }
    data_.append(data);
    return {};
  }
  std::string data_;

 private:
  int64_t limit_;
};

// Counts what the applier reads, for "Extracting" progress.
class CountingReader final : public Reader {
 public:
  CountingReader(Reader& in, std::function<void(int64_t)> on_read)
      : in_(in), on_read_(std::move(on_read)) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    auto n = in_.read(buffer, capacity);
    if (n && *n > 0) {
      total_ += static_cast<int64_t>(*n);
      on_read_(total_);
    }
    return n;
  }

 private:
  Reader& in_;
  std::function<void(int64_t)> on_read_;
  int64_t total_ = 0;
};

// Progress messages at most every 100 ms per layer, plus the last one.
class Throttle {
 public:
  bool due(bool last) {
    auto now = std::chrono::steady_clock::now();
    if (!last && now - last_ < std::chrono::milliseconds(100)) return false;
    last_ = now;
    return true;
  }

 private:
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

Result<Platform> parse_platform(std::string_view text) {
  Platform p;
  p.architecture = read_host_info().go_arch;
  if (text.empty()) return p;
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    auto slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? text.size() - start : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (auto& part : parts) {
    for (auto& c : part) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (part.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "invalid platform \"" + std::string(text) + "\": expected os/arch[/variant]");
    }
  }
  if (parts.size() == 1) {
    p.architecture = parts[0];
  } else if (parts.size() <= 3) {
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
  } else {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid platform \"" + std::string(text) + "\": expected os/arch[/variant]");
  }
  if (p.architecture == "x86_64" || p.architecture == "x86-64") p.architecture = "amd64";
  if (p.architecture == "aarch64") p.architecture = "arm64";
  return p;
}

Result<json::object> select_platform(const json::object& index, const Platform& want) {
  const auto* manifests = index.if_contains("manifests");
  if (manifests == nullptr || !manifests->is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "index has no manifests list");
  }
  std::string offered;
  const json::object* fallback = nullptr;  // same os/arch, another variant
  for (const auto& m : manifests->get_array()) {
    if (!m.is_object()) continue;
    const auto* p = m.get_object().if_contains("platform");
    if (p == nullptr || !p->is_object()) continue;
    std::string os = str(p->get_object(), "os"), arch = str(p->get_object(), "architecture");
    std::string variant = str(p->get_object(), "variant");
    if (os == "unknown") continue;  // attestation manifests
    offered += (offered.empty() ? "" : ", ") + os + "/" + arch + (variant.empty() ? "" : "/" + variant);
    if (os != want.os || arch != want.architecture) continue;
    if (want.variant.empty() || variant == want.variant) {
      if (want.variant.empty() && want.architecture == "arm64" && !variant.empty() && variant != "v8") {
        if (fallback == nullptr) fallback = &m.get_object();
        continue;
      }
      return m.get_object();
    }
  }
  if (fallback != nullptr) return *fallback;
  return make_error(ErrorCode::kNotFound,
                    "no matching manifest for " + want.os + "/" + want.architecture +
                        (want.variant.empty() ? "" : "/" + want.variant) +
                        " in the manifest list entries (it offers " +
                        (offered.empty() ? std::string("none") : offered) + ")");
}

struct ImagePuller::Source {
  Endpoint endpoint;
  sdk::RepoRef repo;
};

ImagePuller::ImagePuller(ImageService& images, sdk::RegistryTransport& transport,
                         config::RegistryOptions options, std::filesystem::path downloads_dir,
                         std::filesystem::path digests_dir)
    : images_(images), transport_(transport), options_(std::move(options)),
      downloads_(std::move(downloads_dir)), digests_(std::move(digests_dir)) {}

Result<std::string> ImagePuller::pull(const PullRequest& request, const ProgressFn& progress,
                                      sdk::Context& ctx) {
  ScopedAuth auth(request.auth);
  auto endpoints = pull_endpoints(request.reference.domain, options_);
  if (!endpoints) return endpoints.error();
  const auto& ref = request.reference;
  Error last = make_error(ErrorCode::kUnavailable, "no registry endpoint");
  for (const auto& endpoint : *endpoints) {
    Source source{endpoint, sdk::RepoRef{endpoint.host, ref.path, endpoint.insecure}};
    auto id = pull_from(source, request, progress, ctx);
    if (id) return id;
    last = id.error();
    if (!endpoint.mirror || last.code == ErrorCode::kCancelled) break;
    logging::get("image")->warn("pull {} from mirror {} failed, trying the next source: {}",
                                ref.familiar_string(), endpoint.host, last.message);
  }
  return last;
}

Result<std::string> ImagePuller::pull_from(const Source& source, const PullRequest& request,
                                           const ProgressFn& progress, sdk::Context& ctx) {
  const auto& ref = request.reference;
  std::string what = ref.familiar_string() + " from " + source.endpoint.host;
  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  auto fetched = transport_.fetch_manifest(ctx, source.repo, reference, kManifestTypes);
  if (!fetched) {
    if (fetched.error().code == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kNotFound,
                        "manifest for " + ref.familiar_string() + " not found: manifest unknown (" +
                            source.endpoint.host + ")");
    }
    return fetched.error().wrap("pull " + what);
  }
  // The digest of what came, checked against what was asked for and what the registry says.
  std::string top_digest = Sha256::of(fetched->body);
  if (!ref.digest.empty() && top_digest != ref.digest) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pull " + what + ": the manifest's digest is " + top_digest + ", not the " +
                          ref.digest + " asked for");
  }
  if (!fetched->descriptor.digest.empty() && fetched->descriptor.digest != top_digest) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pull " + what + ": manifest digest mismatch (registry says " +
                          fetched->descriptor.digest + ", content is " + top_digest + ")");
  }
  // After the manifest came, as dockerd does: a missing tag or a refusal is a plain HTTP error.
  progress(json::object{{"status", "Pulling from " + ref.path}, {"id", reference}});
  json::error_code ec;
  auto doc = json::parse(fetched->body, ec);
  if (ec || !doc.is_object()) return make_error(ErrorCode::kInvalidArgument, "pull " + what + ": manifest is not JSON");
  std::string media = fetched->descriptor.media_type;
  if (media.empty() || media == "application/json" || media == "text/plain") media = str(doc.get_object(), "mediaType");
  if (media.empty() && doc.get_object().contains("manifests")) media = std::string(kOciIndexType);
  if (media.empty()) media = std::string(kOciManifestType);
  json::object manifest = doc.get_object();
  if (is_index_type(media)) {
    auto platform = parse_platform(request.platform);
    if (!platform) return platform.error();
    auto chosen = select_platform(manifest, *platform);
    if (!chosen) return chosen.error().wrap("pull " + what);
    auto desc = descriptor_of(*chosen, "manifest entry");
    if (!desc) return desc.error().wrap("pull " + what);
    auto inner = transport_.fetch_manifest(ctx, source.repo, desc->digest, kManifestTypes);
    if (!inner) return inner.error().wrap("pull " + what);
    if (Sha256::of(inner->body) != desc->digest ||
        static_cast<int64_t>(inner->body.size()) != desc->size) {
      return make_error(ErrorCode::kInvalidArgument,
                        "pull " + what + ": platform manifest " + desc->digest +
                            " does not match its digest or size");
    }
    auto v = json::parse(inner->body, ec);
    if (ec || !v.is_object()) return make_error(ErrorCode::kInvalidArgument, "pull " + what + ": manifest is not JSON");
    manifest = v.get_object();
    media = desc->media_type;
  }
  if (is_index_type(media) || (!media.empty() && media != kOciManifestType && media != kDockerManifestType)) {
    return make_error(ErrorCode::kUnsupported, "pull " + what + ": unsupported manifest type " + media);
  }
  const auto* config_v = manifest.if_contains("config");
  const auto* layers_v = manifest.if_contains("layers");
  if (config_v == nullptr || layers_v == nullptr || !layers_v->is_array()) {
    return make_error(ErrorCode::kInvalidArgument, "pull " + what + ": manifest without config or layers");
  }
  auto config_desc = descriptor_of(*config_v, "config");
  if (!config_desc) return config_desc.error().wrap("pull " + what);
  std::vector<sdk::Descriptor> layers;
  for (const auto& l : layers_v->get_array()) {
    auto d = descriptor_of(l, "layer");
    if (!d) return d.error().wrap("pull " + what);
    if (!is_layer_type(d->media_type)) {
      return make_error(ErrorCode::kUnsupported,
                        "pull " + what + ": layer " + d->digest + " has media type " + d->media_type +
                            ", which berth does not pull (foreign or unknown layers)");
    }
    layers.push_back(*d);
  }
  if (config_desc->size > kMaxConfig) {
    return make_error(ErrorCode::kResourceExhausted, "pull " + what + ": config is too large");
  }
  StringSink config_sink(kMaxConfig);
  if (auto s = transport_.fetch_blob(ctx, source.repo, *config_desc, 0, config_sink); !s) {
    return s.error().wrap("pull " + what + ": config");
  }
  if (Sha256::of(config_sink.data_) != config_desc->digest ||
      static_cast<int64_t>(config_sink.data_.size()) != config_desc->size) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pull " + what + ": config blob does not match its digest " + config_desc->digest);
  }
  auto config = ImageConfig::parse(config_sink.data_);
  if (!config) return config.error().wrap("pull " + what + ": config");
  if (config->diff_ids().size() != layers.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pull " + what + ": config lists " + std::to_string(config->diff_ids().size()) +
                          " layers, the manifest " + std::to_string(layers.size()));
  }
  std::string top_chain;
  BERTH_TRY_STATUS(apply_layers(source, request, layers, config->diff_ids(), progress, ctx, top_chain));
  auto id = images_.create_image(config_sink.data_, "");
  if (!id) {
    images_.release_chain(ctx, top_chain);
    return id.error().wrap("pull " + what);
  }
  Reference name_only{ref.domain, ref.path, "", ""};
  (void)images_.add_repo_digest(*id, name_only.name() + "@" + top_digest);
  bool up_to_date = false;
  if (!ref.tag.empty()) {
    auto before = images_.resolve(ref.string());
    up_to_date = before && before->record.id == *id;
    BERTH_TRY_STATUS(images_.set_tag(ref, *id));
  }
  progress(json::object{{"status", "Digest: " + top_digest}});
  progress(json::object{{"status", std::string(up_to_date ? "Status: Image is up to date for "
                                                          : "Status: Downloaded newer image for ") +
                                       ref.familiar_string()}});
  logging::get("image")->info("pulled {} ({}) from {}", ref.familiar_string(), top_digest,
                              source.endpoint.host);
  return *id;
}

Status ImagePuller::apply_layers(const Source& source, const PullRequest& request,
                                 const std::vector<sdk::Descriptor>& layers,
                                 const std::vector<std::string>& diff_ids,
                                 const ProgressFn& progress, sdk::Context& ctx,
                                 std::string& top_chain) {
  std::mutex progress_mutex;
  auto say = [&](const json::object& m) {
    std::lock_guard lock(progress_mutex);
    progress(m);
  };
  struct Job {
    size_t index;
    std::shared_ptr<BlobDownload> download;
    bool owner = false;
  };
  std::vector<Job> jobs;
  std::vector<bool> present(layers.size(), false);
  {
    std::string chain;
    for (size_t i = 0; i < layers.size(); ++i) {
      chain = chain_id(chain, diff_ids[i]);
      std::string id = short_layer_id(layers[i].digest);
      if (images_.has_layer(ctx, chain)) {
        present[i] = true;
        say(layer_status("Already exists", id));
        continue;
      }
      say(layer_status("Pulling fs layer", id));
      bool created = false;
      auto d = downloads_.get(layers[i], created);
      jobs.push_back(Job{i, d, created});
    }
  }
  // Downloads: workers take the blobs in layer order, max-concurrent-downloads at a time.
  std::mutex queue_mutex;
  std::deque<Job*> queue;
  for (auto& j : jobs) {
    if (j.owner) queue.push_back(&j);
  }
  size_t workers = std::min<size_t>(static_cast<size_t>(std::max(1, options_.max_concurrent_downloads)), queue.size());
  for (size_t k = workers; k < queue.size(); ++k) say(layer_status("Waiting", short_layer_id(queue[k]->download->blob().digest)));
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      ScopedAuth auth(request.auth);
      for (;;) {
        Job* job;
        {
          std::lock_guard lock(queue_mutex);
          if (queue.empty()) return;
          job = queue.front();
          queue.pop_front();
        }
        std::string id = short_layer_id(job->download->blob().digest);
        Throttle throttle;
        auto s = job->download->run(transport_, ctx, source.repo, [&](int64_t now, int64_t total) {
          if (throttle.due(now == total)) say(layer_progress("Downloading", id, now, total));
        });
        if (s) {
          say(layer_status("Verifying Checksum", id));
          say(layer_status("Download complete", id));
        }
      }
    });
  }
  auto join = [&] {
    for (auto& t : threads) t.join();
    threads.clear();
  };
  // Apply in order, each layer reading its blob as it arrives.
  std::string chain;
  Status failed;
  size_t next_job = 0;
  for (size_t i = 0; i < layers.size() && failed; ++i) {
    if (present[i]) {
      chain = chain_id(chain, diff_ids[i]);
      continue;
    }
    Job& job = jobs[next_job++];
    std::string id = short_layer_id(layers[i].digest);
    auto blob_reader = job.download->open_reader();
    Throttle throttle;
    int64_t total = layers[i].size;
    CountingReader counted(*blob_reader, [&](int64_t n) {
      if (throttle.due(n == total)) say(layer_progress("Extracting", id, n, total));
    });
    auto rec = images_.ingest_layer(ctx, chain, counted, diff_ids[i], [&] { return job.download->wait(); });
    if (!rec) {
      // The blob's own failure is the cause worth naming: a digest mismatch (its spool already
      // removed) or the network (the spool kept, so the next pull resumes after it).
      auto download_status = job.download->wait();
      if (!download_status) {
        failed = download_status.error();
      } else {
        failed = rec.error();
        job.download->discard();
      }
      failed = std::move(failed).error().wrap("layer " + id + " of " + request.reference.familiar_string());
      break;
    }
    job.download->discard();
    if (layers[i].media_type == kDockerLayerGzipType || layers[i].media_type == kOciLayerGzipType) {
      digests_.put(diff_ids[i],
                   sdk::Descriptor{std::string(kDockerLayerGzipType), layers[i].digest, layers[i].size},
                   &source.repo);
    }
    chain = rec->chain_id;
    say(layer_status("Pull complete", id));
  }
  if (!failed) {
    for (auto& j : jobs) j.download->cancel();
  }
  join();
  for (auto& j : jobs) downloads_.release(j.download->blob().digest);
  if (!failed) {
    if (!chain.empty()) images_.release_chain(ctx, chain);
    return failed;
  }
  top_chain = chain;
  return {};
}

Status ImagePuller::pull_all_tags(const PullRequest& request, const ProgressFn& progress,
                                  sdk::Context& ctx) {
  ScopedAuth auth(request.auth);
  auto endpoints = pull_endpoints(request.reference.domain, options_);
  if (!endpoints) return endpoints.error();
  const auto& origin = endpoints->back();
  auto tags = transport_.list_tags(ctx, sdk::RepoRef{origin.host, request.reference.path, origin.insecure});
  if (!tags) return tags.error().wrap("list tags of " + request.reference.familiar_name());
  for (const auto& tag : *tags) {
    PullRequest one = request;
    one.reference.tag = tag;
    one.reference.digest.clear();
    auto id = pull(one, progress, ctx);
    if (!id) return id.error();
  }
  return {};
}

}  // namespace berth::core::image
