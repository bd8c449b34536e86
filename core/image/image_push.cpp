#include "core/image/image_push.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <boost/json.hpp>
#include <deque>
#include <mutex>
#include <thread>

#include "core/common/fs.hpp"
#include "core/common/json_fields.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/unique_fd.hpp"
#include "core/image/image_config.hpp"
#include "core/image/layer_gzip.hpp"
#include "core/image/pull_progress.hpp"
#include "core/image/registry_hosts.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

// Reads a file front to back for an upload, reporting how far it got.
class FileSource final : public sdk::ByteSource {
 public:
  FileSource(int fd, std::function<void(int64_t)> on_read) : fd_(fd), on_read_(std::move(on_read)) {}
  sdk::Result<size_t> read(char* buffer, size_t capacity) override {
    for (;;) {
      ssize_t n = ::read(fd_, buffer, capacity);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error("read compressed layer");
      total_ += n;
      if (n > 0 && on_read_) on_read_(total_);
      return static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  std::function<void(int64_t)> on_read_;
  int64_t total_ = 0;
};

// The body of a mount request: the registry mounts without reading it; where it cannot mount and
// asks for the bytes instead, the attempt ends here and the layer is uploaded normally.
class MountOnlySource final : public sdk::ByteSource {
 public:
  sdk::Result<size_t> read(char*, size_t) override {
    return make_error(ErrorCode::kFailedPrecondition, "the registry did not mount the blob");
  }
};

class StringSource final : public sdk::ByteSource {
 public:
  explicit StringSource(std::string_view data) : data_(data) {}
  sdk::Result<size_t> read(char* buffer, size_t capacity) override {
    size_t n = std::min(capacity, data_.size());
    std::memcpy(buffer, data_.data(), n);
    data_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view data_;
};

void append_descriptor(std::string& out, const sdk::Descriptor& d, const std::string& indent) {
  out += indent + "{\n";
  out += indent + "   \"mediaType\": " + json::serialize(json::value(d.media_type)) + ",\n";
  out += indent + "   \"size\": " + std::to_string(d.size) + ",\n";
  out += indent + "   \"digest\": " + json::serialize(json::value(d.digest)) + "\n";
  out += indent + "}";
}

}  // namespace

namespace {

std::optional<json::object> read_record(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  auto text = fs::read_file(path);
  if (!text) return std::nullopt;
  json::error_code jec;
  auto v = json::parse(*text, jec);
  if (jec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

constexpr size_t kMaxSeenIn = 16;

}  // namespace

std::optional<sdk::Descriptor> CompressedDigests::get(const std::string& diff_id) const {
  auto o = read_record(dir_ / hex_of(diff_id));
  if (!o) return std::nullopt;
  sdk::Descriptor d{json_fields::str(*o, "mediaType"), json_fields::str(*o, "digest"), 0};
  if (const auto* s = o->if_contains("size"); s && s->is_int64()) d.size = s->get_int64();
  if (d.digest.empty() || d.size <= 0) return std::nullopt;
  return d;
}

std::vector<std::string> CompressedDigests::seen_in(const std::string& diff_id,
                                                    const std::string& registry) const {
  std::vector<std::string> repos;
  auto o = read_record(dir_ / hex_of(diff_id));
  if (!o) return repos;
  const auto* list = o->if_contains("seenIn");
  if (!list || !list->is_array()) return repos;
  std::string prefix = registry + "/";
  for (const auto& v : list->get_array()) {
    if (!v.is_string()) continue;
    std::string_view where = v.get_string();
    if (where.size() > prefix.size() && where.substr(0, prefix.size()) == prefix) {
      repos.emplace_back(where.substr(prefix.size()));
    }
  }
  return repos;
}

void CompressedDigests::put(const std::string& diff_id, const sdk::Descriptor& blob,
                            const sdk::RepoRef* seen_in) const {
  auto path = dir_ / hex_of(diff_id);
  json::array where;
  // Where the same blob was seen before stays known; a different blob starts a new list.
  if (auto old = read_record(path); old && json_fields::str(*old, "digest") == blob.digest) {
    if (const auto* list = old->if_contains("seenIn"); list && list->is_array()) where = list->get_array();
  }
  if (seen_in) {
    json::string here(seen_in->registry + "/" + seen_in->repository);
    for (size_t i = 0; i < where.size(); ++i) {
      if (where[i] == here) {
        where.erase(where.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    where.insert(where.begin(), here);  // most recent first: the likeliest to still be there
    while (where.size() > kMaxSeenIn) where.pop_back();
  }
  json::object o{{"mediaType", blob.media_type}, {"digest", blob.digest}, {"size", blob.size}};
  if (!where.empty()) o["seenIn"] = std::move(where);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  (void)fs::atomic_write(path.string(), json::serialize(o), 0600);
}

std::string docker_manifest_json(const sdk::Descriptor& config,
                                 const std::vector<sdk::Descriptor>& layers) {
  std::string out = "{\n   \"schemaVersion\": 2,\n   \"mediaType\": " +
                    json::serialize(json::value(kDockerManifestType)) + ",\n   \"config\": ";
  std::string c;
  append_descriptor(c, config, "   ");
  out += c.substr(3) + ",\n   \"layers\": [";
  if (layers.empty()) {
    out += "]\n}";
    return out;
  }
  out += "\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    append_descriptor(out, layers[i], "      ");
    out += i + 1 < layers.size() ? ",\n" : "\n";
  }
  out += "   ]\n}";
  return out;
}

ImagePusher::ImagePusher(ImageService& images, sdk::RegistryTransport& transport,
                         config::RegistryOptions options, std::filesystem::path work_dir,
                         std::filesystem::path digests_dir)
    : images_(images), transport_(transport), options_(std::move(options)),
      work_dir_(std::move(work_dir)), digests_(std::move(digests_dir)) {}

Status ImagePusher::push(const PushRequest& request, const ProgressFn& progress, sdk::Context& ctx) {
  ScopedAuth auth(request.auth);
  const auto& ref = request.reference;
  std::string host = registry_host(ref.domain);
  sdk::RepoRef repo{host, ref.path, is_insecure_registry(host, options_.insecure_registries)};
  Reference name_only{ref.domain, ref.path, "", ""};
  std::vector<std::string> tags;
  if (!ref.tag.empty()) {
    tags.push_back(ref.tag);
  } else {
    tags = images_.tags_of_repository(name_only.name());
  }
  if (tags.empty() || !images_.resolve(ref.tag.empty() ? name_only.string() + ":" + tags[0] : ref.string())) {
    return make_error(ErrorCode::kNotFound,
                      "An image does not exist locally with the tag: " + ref.familiar_string());
  }
  progress(json::object{{"status", "The push refers to repository [" + name_only.familiar_name() + "]"}});
  for (const auto& tag : tags) {
    Reference one{ref.domain, ref.path, tag, ""};
    BERTH_TRY_STATUS(push_tag(repo, one, request.auth, progress, ctx));
  }
  return {};
}

Status ImagePusher::push_tag(const sdk::RepoRef& repo, const Reference& ref,
                             const AuthConfig& auth, const ProgressFn& progress,
                             sdk::Context& ctx) {
  std::string what = "push " + ref.familiar_string() + " to " + repo.registry;
  auto image = images_.resolve(ref.string());
  if (!image) {
    return make_error(ErrorCode::kNotFound,
                      "An image does not exist locally with the tag: " + ref.familiar_string());
  }
  std::vector<LayerRecord> layers;
  std::string chain;
  for (const auto& diff : image->config.diff_ids()) {
    chain = chain_id(chain, diff);
    auto record = images_.layer_record(chain);
    if (!record) return make_error(ErrorCode::kNotFound, what + ": layer " + diff + " is not stored");
    layers.push_back(*record);
  }
  std::mutex progress_mutex;
  ProgressFn say = [&](const json::object& m) {
    std::lock_guard lock(progress_mutex);
    progress(m);
  };
  // Docker lists the layers top first.
  for (size_t i = layers.size(); i-- > 0;) say(layer_status("Preparing", short_layer_id(layers[i].diff_id)));
  std::vector<sdk::Descriptor> pushed(layers.size());
  std::mutex queue_mutex;
  std::deque<size_t> queue;
  for (size_t i = 0; i < layers.size(); ++i) queue.push_back(i);
  size_t workers = std::min<size_t>(static_cast<size_t>(std::max(1, options_.max_concurrent_uploads)),
                                    layers.size());
  for (size_t k = workers; k < layers.size(); ++k) say(layer_status("Waiting", short_layer_id(layers[k].diff_id)));
  std::mutex failure_mutex;
  Status failure;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      ScopedAuth scoped(auth);  // credentials are per thread (registry_auth.hpp)
      for (;;) {
        size_t i;
        {
          std::lock_guard lock(queue_mutex);
          if (queue.empty() || stop) return;
          i = queue.front();
          queue.pop_front();
        }
        auto d = push_layer(repo, layers[i], say, ctx);
        if (!d) {
          std::lock_guard lock(failure_mutex);
          if (failure) failure = d.error();
          stop = true;
          return;
        }
        pushed[i] = *d;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!failure) return std::move(failure).error().wrap(what);

  const std::string& config_bytes = image->config.bytes();
  sdk::Descriptor config{std::string(kDockerConfigType), image->record.id,
                         static_cast<int64_t>(config_bytes.size())};
  auto config_there = transport_.blob_exists(ctx, repo, config.digest);
  if (!config_there) return config_there.error().wrap(what + ": config");
  if (!*config_there) {
    StringSource source(config_bytes);
    if (auto s = transport_.push_blob(ctx, repo, config, "", source); !s) return s.error().wrap(what + ": config");
  }
  std::string manifest = docker_manifest_json(config, pushed);
  std::string digest = Sha256::of(manifest);
  auto answered = transport_.push_manifest(ctx, repo, ref.tag, kDockerManifestType, manifest);
  if (!answered) return answered.error().wrap(what);
  if (!answered->empty() && *answered != digest) {
    logging::get("image")->warn("registry {} answered digest {} for manifest {}", repo.registry,
                                *answered, digest);
  }
  Reference name_only{ref.domain, ref.path, "", ""};
  (void)images_.add_repo_digest(image->record.id, name_only.name() + "@" + digest);
  auto size = static_cast<int64_t>(manifest.size());
  progress(json::object{{"status", ref.tag + ": digest: " + digest + " size: " + std::to_string(size)}});
  progress(json::object{{"progressDetail", json::object{}},
                        {"aux", json::object{{"Tag", ref.tag}, {"Digest", digest}, {"Size", size}}}});
  logging::get("image")->info("pushed {} ({}) to {}", ref.familiar_string(), digest, repo.registry);
  return {};
}

Result<sdk::Descriptor> ImagePusher::push_layer(const sdk::RepoRef& repo, const LayerRecord& layer,
                                                const ProgressFn& say, sdk::Context& ctx) {
  std::string id = short_layer_id(layer.diff_id);
  std::string what = "layer " + id;
  auto known = digests_.get(layer.diff_id);
  if (known) {
    auto there = transport_.blob_exists(ctx, repo, known->digest);
    if (!there) return there.error().wrap(what);
    if (*there) {
      digests_.put(layer.diff_id, *known, &repo);
      say(layer_status("Layer already exists", id));
      return *known;
    }
    // Pushed to or pulled from another repository of this registry: mounted there, nothing
    // compressed or sent (docker's cross-repository blob mount).
    auto sources = digests_.seen_in(layer.diff_id, repo.registry);
    int tries = 0;
    for (const auto& from : sources) {
      if (from == repo.repository || tries++ == 3) continue;
      MountOnlySource nothing;
      auto mounted = transport_.push_blob(ctx, repo, *known, from, nothing);
      if (mounted) {
        digests_.put(layer.diff_id, *known, &repo);
        say(layer_status("Mounted from " + from, id));
        return *known;
      }
      logging::get("image")->debug("{}: no mount from {} on {}: {}", what, from, repo.registry,
                                   mounted.error().message);
    }
  }
  // Compress into a spool file: the upload needs the size first, and a retry the bytes again.
  std::string spool = (work_dir_ / ("push-" + hex_of(layer.diff_id) + "-" +
                                    std::to_string(::getpid()) + "-" +
                                    std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()))))
                          .string();
  UniqueFd fd(::open(spool.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return errno_error("create " + spool);
  struct Unlink {
    std::string path;
    ~Unlink() { ::unlink(path.c_str()); }
  } unlink_spool{spool};
  auto tar = images_.open_layer_tar(ctx, layer);
  if (!tar) return tar.error().wrap(what);
  FdWriter spool_writer(fd.get());
  auto blob = gzip_layer(**tar, spool_writer);
  if (!blob) return blob.error().wrap(what + ": compress");
  digests_.put(layer.diff_id, *blob);
  if (!known || known->digest != blob->digest) {
    auto there = transport_.blob_exists(ctx, repo, blob->digest);
    if (!there) return there.error().wrap(what);
    if (*there) {
      digests_.put(layer.diff_id, *blob, &repo);
      say(layer_status("Layer already exists", id));
      return *blob;
    }
  }
  // One retry: a streamed body cannot be replayed by the transport after it asked for a token.
  for (int attempt = 0;; ++attempt) {
    if (::lseek(fd.get(), 0, SEEK_SET) < 0) return errno_error("rewind " + spool);
    std::chrono::steady_clock::time_point last{};
    FileSource source(fd.get(), [&](int64_t n) {
      auto now = std::chrono::steady_clock::now();
      if (n != blob->size && now - last < std::chrono::milliseconds(100)) return;
      last = now;
      say(layer_progress("Pushing", id, n, blob->size));
    });
    auto s = transport_.push_blob(ctx, repo, *blob, "", source);
    if (s) break;
    if (attempt == 0 && s.error().code == ErrorCode::kUnavailable) continue;
    return s.error().wrap(what);
  }
  digests_.put(layer.diff_id, *blob, &repo);
  say(layer_status("Pushed", id));
  return *blob;
}

}  // namespace berth::core::image
