// Layers in and out: a tar becomes a committed snapshot plus its tar split in one pass
// (decompressed, bounded, hashed, applied, recorded), and a stored layer becomes its exact tar
// again by replaying the split over a read-only view of the snapshot.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "berth/sdk/mount.hpp"
#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "core/common/logging.hpp"
#include "core/common/time.hpp"
#include "core/image/image_service.hpp"
#include "core/layer/applier.hpp"
#include "core/layer/compression.hpp"
#include "core/layer/safe_path.hpp"
#include "core/layer/tar_split.hpp"

namespace berth::core::image {
namespace {

std::string short_id(const std::string& id) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

// Writes through to an fd that is fsynced before the file is renamed into place.
class SplitFile {
 public:
  static Result<SplitFile> create(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return errno_error("create " + path.string());
    return SplitFile(path, UniqueFd(fd));
  }
  Writer& writer() { return *writer_; }
  Status sync() {
    if (::fsync(fd_.get()) != 0) return errno_error("fsync " + path_.string());
    return {};
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  SplitFile(std::filesystem::path path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)), writer_(std::make_unique<FdWriter>(fd_.get())) {}
  std::filesystem::path path_;
  UniqueFd fd_;
  std::unique_ptr<FdWriter> writer_;
};

void remove_quietly(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

}  // namespace

// ---- in --------------------------------------------------------------------------------------

Result<layer::ApplyResult> ImageService::apply_into_snapshot(const std::string& key,
                                                             const std::vector<sdk::Mount>& mounts,
                                                             Reader& tar,
                                                             layer::ApplyOptions options) {
  // Fast paths, as containerd's applier: write straight into the directory the snapshot is
  // made of. A bind mount is that directory; an overlay's upperdir takes overlay-style whiteouts.
  if (mounts.size() == 1) {
    const auto& m = mounts[0];
    if (m.type == "bind") {
      options.whiteouts = layer::WhiteoutMode::kApply;
      return layer::apply_tar(m.source, tar, options);
    }
    if (m.type == "overlay") {
      for (const auto& opt : m.options) {
        if (opt.rfind("upperdir=", 0) == 0) {
          options.whiteouts = layer::WhiteoutMode::kOverlay;
          return layer::apply_tar(opt.substr(9), tar, options);
        }
      }
    }
  }
  // Anything else: mount it and apply through the mount.
  std::string target = scratch_dir_ + "/" + key;
  BERTH_TRY_STATUS(fs::ensure_dir(target, 0700));
  auto mounted = sdk::ScopedMounts::mount(mounts, target);
  if (!mounted) {
    remove_quietly(target);
    return mounted.error();
  }
  options.whiteouts = layer::WhiteoutMode::kApply;
  auto r = layer::apply_tar(target, tar, options);
  auto unmounted = mounted->unmount();
  remove_quietly(target);
  if (!r) return r.error();
  if (!unmounted) return unmounted.error();
  return r;
}

bool ImageService::has_layer(sdk::Context& ctx, const std::string& chain) const {
  return store_.layer(chain).has_value() && storage_.stat(ctx, chain).has_value();
}

Result<LayerRecord> ImageService::ingest_layer(sdk::Context& ctx, const std::string& parent_chain, Reader& tar,
                                               const std::optional<std::string>& expected_diff_id,
                                               const std::function<Status()>& before_commit) {
  if (expected_diff_id) {
    // Already stored: nothing to read (a load of an image that shares layers).
    std::string chain = chain_id(parent_chain, *expected_diff_id);
    auto lock_holder = chain_lock(chain);
    std::lock_guard lock(*lock_holder);
    if (auto existing = store_.layer(chain)) {
      if (storage_.stat(ctx, chain)) return *existing;
      logging::get("image")->warn("layer {} lost its snapshot; extracting it again", short_id(chain));
      (void)store_.remove_layer(chain);
    }
  }
  // Everything is staged under names startup reconciliation knows: an extract-* snapshot and
  // tmp-* split files, so a crash here leaves nothing that is not reclaimed.
  std::string stage = random_hex(8);
  std::string key = "extract-" + stage;
  auto split_tmp = store_.layers_dir() / ("tmp-" + stage + ".split");
  auto captures_tmp = store_.layers_dir() / ("tmp-" + stage + ".captures");
  auto discard = [&] {
    (void)storage_.remove(ctx, key);
    remove_quietly(split_tmp);
    remove_quietly(captures_tmp);
  };
  auto mounts = storage_.prepare(ctx, key, parent_chain, {{"berth.layer.staging", "true"}});
  if (!mounts) return mounts.error().wrap("prepare layer");
  auto split_file = SplitFile::create(split_tmp);
  if (!split_file) {
    discard();
    return split_file.error();
  }
  layer::GzipWriter gzip(split_file->writer(), 6);
  layer::SplitRecorder recorder(gzip, captures_tmp);
  layer::ApplyOptions options;
  options.limits = tar_limits_;
  options.recorder = &recorder;
  auto applied = apply_into_snapshot(key, *mounts, tar, options);
  if (applied) {
    if (auto s = recorder.finish(); !s) applied = s.error();
  }
  if (applied) {
    if (auto s = gzip.finish(); !s) applied = s.error();
  }
  if (applied) {
    if (auto s = split_file->sync(); !s) applied = s.error();
  }
  if (!applied) {
    discard();
    return applied.error().wrap("apply layer");
  }
  const std::string& diff_id = applied->diff_id;
  if (expected_diff_id && diff_id != *expected_diff_id) {
    discard();
    return make_error(ErrorCode::kInvalidArgument, "layer content does not match diff id " +
                                                       *expected_diff_id + " (its digest is " +
                                                       diff_id + ")");
  }
  if (before_commit) {
    if (auto s = before_commit(); !s) {
      discard();
      return s.error();
    }
  }
  std::string chain = chain_id(parent_chain, diff_id);
  auto lock_holder = chain_lock(chain);
  std::lock_guard lock(*lock_holder);
  if (auto existing = store_.layer(chain); existing && storage_.stat(ctx, chain)) {
    discard();  // the same layer arrived twice (concurrent imports): keep the first
    return *existing;
  }
  (void)storage_.remove(ctx, chain);  // a snapshot whose record was lost
  if (auto s = storage_.commit(ctx, chain, key, {{"berth.layer.diff-id", diff_id}}); !s) {
    discard();
    return std::move(s).error().wrap("commit layer " + short_id(diff_id));
  }
  // The split becomes visible before the record, so a record always has its split.
  std::error_code ec;
  std::filesystem::rename(split_tmp, store_.split_path(chain), ec);
  if (!ec && recorder.has_captures()) std::filesystem::rename(captures_tmp, store_.captures_path(chain), ec);
  if (ec) {
    discard();
    (void)storage_.remove(ctx, chain);
    return make_error(ErrorCode::kInternal, "store tar split of layer " + short_id(diff_id) + ": " +
                                                ec.message());
  }
  LayerRecord rec{chain, diff_id, parent_chain, applied->size, now_unix_nano(), recorder.tar_size(), true};
  if (auto s = store_.put_layer(rec); !s) {
    (void)storage_.remove(ctx, chain);
    (void)store_.remove_layer(chain);
    return s.error();
  }
  return rec;
}

// ---- out -------------------------------------------------------------------------------------

// A stored layer's tar, rebuilt. Holds a read-only view of the layer mounted for as long as it
// lives.
class ImageService::LayerTar final : public Reader {
 public:
  LayerTar(ImageService& service, int64_t size) : service_(service), size_(size) {}
  ~LayerTar() override {
    replay_.reset();
    gunzip_.reset();
    split_in_.reset();
    split_fd_.reset();
    root_.reset();
    if (mounted_) (void)mounted_->unmount();
    if (!target_.empty()) remove_quietly(target_);
    if (!view_.empty()) {
      // The reader can outlive its request's cancellation (a client that hung up mid-save):
      // the view is removed regardless, under the request's id.
      sdk::Context cleanup(request_id_);
      (void)service_.storage_.remove(cleanup, view_);
    }
  }
  Result<size_t> read(char* buffer, size_t capacity) override {
    if (blob_) return blob_->read(buffer, capacity);
    return replay_->read(buffer, capacity);
  }
  int64_t size() const { return size_; }

  ImageService& service_;
  int64_t size_;
  std::string request_id_;  // of the request that opened it, for the cleanup's driver call
  std::string view_;
  std::string target_;
  std::optional<sdk::ScopedMounts> mounted_;
  UniqueFd root_;
  UniqueFd split_fd_;
  std::unique_ptr<FdReader> split_in_;
  std::unique_ptr<layer::DecompressReader> gunzip_;
  std::unique_ptr<layer::SplitReplay> replay_;
  UniqueFd blob_fd_;
  std::unique_ptr<FdReader> blob_;
};

Result<int64_t> ImageService::layer_tar_size(const LayerRecord& record) const {
  if (record.split) return record.tar_size;
  return content_.size(record.diff_id);
}

Result<std::unique_ptr<Reader>> ImageService::open_layer_tar(sdk::Context& ctx, const LayerRecord& record) {
  auto size = layer_tar_size(record);
  if (!size) return size.error();
  auto out = std::make_unique<LayerTar>(*this, *size);
  if (!record.split) {
    // Stored before tar splits: the uncompressed tar is a blob.
    auto fd = content_.open_blob(record.diff_id);
    if (!fd) return fd.error();
    out->blob_fd_ = std::move(*fd);
    out->blob_ = std::make_unique<FdReader>(out->blob_fd_.get());
    return std::unique_ptr<Reader>(std::move(out));
  }
  int fd = ::open(store_.split_path(record.chain_id).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open tar split of layer " + short_id(record.diff_id));
  out->split_fd_ = UniqueFd(fd);
  out->request_id_ = std::string(ctx.request_id());
  out->view_ = "tarview-" + random_hex(8);
  auto mounts = storage_.view(ctx, out->view_, record.chain_id, {});
  if (!mounts) {
    out->view_.clear();
    return mounts.error().wrap("view layer " + short_id(record.diff_id));
  }
  std::string root_path;
  if (mounts->size() == 1 && (*mounts)[0].type == "bind") {
    root_path = (*mounts)[0].source;  // the snapshot's directory itself: nothing to mount
  } else {
    out->target_ = scratch_dir_ + "/" + out->view_;
    BERTH_TRY_STATUS(fs::ensure_dir(out->target_, 0700));
    auto mounted = sdk::ScopedMounts::mount(*mounts, out->target_);
    if (!mounted) return mounted.error();
    out->mounted_.emplace(std::move(*mounted));
    root_path = out->target_;
  }
  auto root = layer::open_root(root_path);
  if (!root) return root.error();
  out->root_ = std::move(*root);
  out->split_in_ = std::make_unique<FdReader>(out->split_fd_.get());
  out->gunzip_ = std::make_unique<layer::DecompressReader>(*out->split_in_);
  std::optional<std::filesystem::path> captures;
  if (std::filesystem::exists(store_.captures_path(record.chain_id))) {
    captures = store_.captures_path(record.chain_id);
  }
  out->replay_ = std::make_unique<layer::SplitReplay>(*out->gunzip_, out->root_.get(), captures,
                                                      record.diff_id);
  return std::unique_ptr<Reader>(std::move(out));
}

}  // namespace berth::core::image
