// The files a build reads (see build_context.hpp).
#include "core/build/build_context.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "core/build/dockerignore.hpp"
#include "core/common/fs.hpp"
#include "core/common/unique_fd.hpp"
#include "core/container/archive.hpp"
#include "core/layer/tar_writer.hpp"

namespace berth::core::build {
namespace {

// Counts what passes through and refuses a context over the limit.
class LimitedReader final : public Reader {
 public:
  LimitedReader(Reader& in, int64_t max) : in_(in), max_(max) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    auto n = in_.read(buffer, capacity);
    if (!n) return n;
    total_ += static_cast<int64_t>(*n);
    if (max_ > 0 && total_ > max_) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the build context is larger than this berthd accepts (" + std::to_string(max_) +
                            " bytes, daemon.json \"build-max-context-size\"): exclude files with .dockerignore");
    }
    return n;
  }

 private:
  Reader& in_;
  int64_t max_;
  int64_t total_ = 0;
};

Error dockerfile_not_found(const std::string& dockerfile) {
  return make_error(ErrorCode::kInvalidArgument, "Cannot locate specified Dockerfile: " + dockerfile +
                                                     " (not in the build context; pass its path inside the context with -f)");
}

Status add_entry(const SourceTree& tree, const std::string& rel, const std::string& name,
                 std::optional<uint32_t> chmod, layer::TarWriter& tar, int depth, const CopyOwner& owner,
                 bool dir_header) {
  auto st = tree.lstat(rel);
  if (!st) return make_error(ErrorCode::kNotFound, "stat " + rel + ": no such file or directory");
  layer::TarHeader h;
  h.mode = (st->mode & S_IFMT) | (chmod ? (*chmod & 07777) : (st->mode & 07777));
  h.mtime = st->mtime;
  h.uid = owner.uid;
  h.gid = owner.gid;
  if (S_ISDIR(st->mode)) {
    if (!name.empty() && dir_header) {
      h.name = name + "/";
      h.type = layer::TarHeader::Type::kDirectory;
      BERTH_TRY_STATUS(tar.add(h));
    }
    if (depth > 512) return make_error(ErrorCode::kInvalidArgument, "directory tree too deep: " + rel);
    auto names = tree.list(rel);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) BERTH_TRY_STATUS(add_entry(tree, join_rel(rel, n), join_rel(name, n), chmod, tar, depth + 1, owner, true));
    return {};
  }
  h.name = name;
  if (S_ISLNK(st->mode)) {
    h.type = layer::TarHeader::Type::kSymlink;
    h.linkname = tree.read_link(rel);
    h.mode = S_IFLNK | 0777;
    return tar.add(h);
  }
  if (!S_ISREG(st->mode)) return {};  // devices, fifos and sockets are not copied
  auto in = tree.open(rel);
  if (!in) return in.error();
  h.type = layer::TarHeader::Type::kRegular;
  h.size = st->size;
  BERTH_TRY_STATUS(tar.add(h));
  std::string buf(1 << 16, '\0');
  int64_t left = st->size;
  while (left > 0) {
    auto n = (*in)->read(buf.data(), static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size()))));
    if (!n) return std::move(n).error().wrap("read " + rel);
    if (*n == 0) return make_error(ErrorCode::kInternal, "read " + rel + ": the file changed while it was copied");
    BERTH_TRY_STATUS(tar.write_data(std::string_view(buf.data(), *n)));
    left -= static_cast<int64_t>(*n);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<BuildContext>> BuildContext::receive(Reader& body, const std::string& dir,
                                                           const std::string& dockerfile, int64_t max_bytes,
                                                           const layer::TarLimits& limits) {
  std::unique_ptr<BuildContext> context(new BuildContext(dir, dockerfile, limits));
  context->spool_fd_.reset(::open(context->spool_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!context->spool_fd_.valid()) return errno_error("unpack the build context: create " + context->spool_);
  LimitedReader limited(body, max_bytes);
  FdWriter spool(context->spool_fd_.get());
  auto index = ContextIndex::read(limited, dockerfile, limits, spool);
  if (!index) return std::move(index).error().wrap("unpack the build context");
  context->index_ = std::move(*index);
  context->index_->attach_spool(context->spool_fd_.get());
  if (!context->index_->exact()) {
    // Something the index does not model: the files themselves decide (and the extractor
    // refuses what it refuses).
    auto unpacked = context->directory();
    if (!unpacked) return std::move(unpacked).error();
  }
  return context;
}

BuildContext::~BuildContext() {
  (void)fs::remove_all(dir_);
  ::unlink(spool_.c_str());
}

const SourceTree* BuildContext::contents() const {
  if (index_ && index_->exact() && index_->contents_complete()) return index_.get();
  return nullptr;
}

const SourceTree& BuildContext::tree() const {
  if (index_ && index_->exact()) return *index_;
  return disk_;
}

bool BuildContext::unpacked() {
  std::lock_guard lock(unpack_mutex_);
  return unpacked_;
}

Result<std::string> BuildContext::directory() {
  std::lock_guard lock(unpack_mutex_);
  if (unpacked_) return dir_;
  if (unpack_error_) return *unpack_error_;
  FdRangeReader in(spool_fd_.get(), 0, -1);
  if (auto s = unpack_context(in, dir_, dockerfile_, 0, limits_); !s) {
    (void)fs::remove_all(dir_);
    unpack_error_ = s.error();
    return std::move(s).error();
  }
  unpacked_ = true;
  return dir_;
}

Result<std::string> BuildContext::dockerfile_text() {
  if (index_ && index_->exact()) {
    if (index_->dockerfile_text()) return *index_->dockerfile_text();
    if (!index_->lstat(clean_relative(dockerfile_))) return dockerfile_not_found(dockerfile_);
  }
  // A link, or a file too large to keep in memory: read from the files, the link resolved
  // inside the context.
  auto d = directory();
  if (!d) return d.error();
  auto rel = resolve_in_root(disk_, dockerfile_, true);
  if (!rel) return dockerfile_not_found(dockerfile_);
  auto text = fs::read_file(*d + "/" + *rel);
  if (!text) return dockerfile_not_found(dockerfile_);
  return text;
}

Status unpack_context(Reader& tar, const std::string& dir, const std::string& dockerfile, int64_t max_bytes,
                      const layer::TarLimits& limits) {
  BERTH_TRY_STATUS(fs::ensure_dir(dir, 0700));
  LimitedReader limited(tar, max_bytes);
  auto s = container::extract_archive(dir, "/", limited, false, true, container::Owner{0, 0}, {}, limits);
  if (!s) return std::move(s).error().wrap("unpack the build context");
  // A .dockerignore that is not a regular file is not read: a link could name a host file.
  struct stat st{};
  auto ignore_text = ::lstat((dir + "/.dockerignore").c_str(), &st) == 0 && S_ISREG(st.st_mode)
                         ? fs::read_file(dir + "/.dockerignore")
                         : Result<std::string>(make_error(ErrorCode::kNotFound, "no .dockerignore"));
  if (ignore_text) {
    IgnoreMatcher ignore(*ignore_text);
    prune_ignored(DiskTree(dir), "", ignore, {clean_relative(dockerfile), ".dockerignore"},
                  [&](const std::string& rel) { (void)fs::remove_all(dir + "/" + rel); });
  }
  return {};
}

Status write_copy_tar(const SourceTree& tree, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                      Writer& out) {
  layer::TarWriter tar(out);
  for (const auto& e : entries) BERTH_TRY_STATUS(add_entry(tree, e.source, e.name, chmod, tar, 0, CopyOwner{}, true));
  return tar.finish();
}

Status write_copy_layer(const SourceTree& tree, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                        const CopyOwner& owner, const std::vector<layer::TarHeader>& parents, const std::string& dest,
                        Writer& out) {
  layer::TarWriter tar(out);
  for (const auto& h : parents) BERTH_TRY_STATUS(tar.add(h));
  for (const auto& e : entries) {
    // A directory source named "" lands in `dest` itself, whose header is among `parents`.
    BERTH_TRY_STATUS(add_entry(tree, e.source, join_rel(dest, e.name), chmod, tar, 0, owner, !e.name.empty()));
  }
  return tar.finish();
}

}  // namespace berth::core::build
