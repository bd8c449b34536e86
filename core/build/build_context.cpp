// The files a build reads (see build_context.hpp).
#include "core/build/build_context.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/build/dockerignore.hpp"
#include "core/common/fs.hpp"
#include "core/common/sha256.hpp"
#include "core/common/unique_fd.hpp"
#include "core/container/archive.hpp"
#include "core/layer/tar_writer.hpp"

namespace berth::core::build {
namespace {

namespace sfs = std::filesystem;

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

std::vector<std::string> split_parts(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (!part.empty() && part != ".") parts.push_back(part);
    i = j + 1;
  }
  return parts;
}

std::string join_rel(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

void prune_ignored(const std::string& root, const std::string& rel, const IgnoreMatcher& ignore,
                   const std::set<std::string>& keep) {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : sfs::directory_iterator(sfs::path(root) / rel, ec)) names.push_back(e.path().filename());
  for (const auto& name : names) {
    std::string child = join_rel(rel, name);
    sfs::path full = sfs::path(root) / child;
    bool is_dir = sfs::is_directory(sfs::symlink_status(full, ec));
    if (keep.contains(child)) continue;
    if (ignore.excluded(child)) {
      // An exception may bring back something below an excluded directory.
      if (is_dir && ignore.has_exceptions()) {
        prune_ignored(root, child, ignore, keep);
        continue;
      }
      (void)fs::remove_all(full);
      continue;
    }
    if (is_dir) prune_ignored(root, child, ignore, keep);
  }
}

// Go's filepath.Match for one element (no "/" in name): *, ?, [...], \ escapes.
bool element_match(std::string_view pattern, std::string_view name) {
  if (pattern.find('/') != std::string_view::npos) return false;
  return glob_match(pattern, name);
}

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

void hash_tree(const std::string& root, const std::string& rel, Sha256& h, int depth) {
  sfs::path full = sfs::path(root) / rel;
  struct stat st{};
  if (::lstat(full.c_str(), &st) != 0) return;
  h.update(rel);
  h.update(std::string_view("\0", 1));
  h.update(std::to_string(st.st_mode) + ":" + std::to_string(S_ISREG(st.st_mode) ? st.st_size : 0));
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    h.update(sfs::read_symlink(full, ec).string());
  } else if (S_ISREG(st.st_mode)) {
    UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.valid()) {
      std::string buf(1 << 16, '\0');
      for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n <= 0) break;
        h.update(std::string_view(buf.data(), static_cast<size_t>(n)));
      }
    }
  } else if (S_ISDIR(st.st_mode) && depth < 256) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : sfs::directory_iterator(full, ec)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) hash_tree(root, join_rel(rel, n), h, depth + 1);
  }
}

Status add_entry(const std::string& root, const std::string& rel, const std::string& name,
                 std::optional<uint32_t> chmod, layer::TarWriter& tar, int depth, const CopyOwner& owner,
                 bool dir_header) {
  sfs::path full = sfs::path(root) / rel;
  struct stat st{};
  if (::lstat(full.c_str(), &st) != 0) return errno_error("stat " + rel);
  layer::TarHeader h;
  h.mode = (st.st_mode & S_IFMT) | (chmod ? (*chmod & 07777) : (st.st_mode & 07777));
  h.mtime = st.st_mtim.tv_sec;
  h.uid = owner.uid;
  h.gid = owner.gid;
  if (S_ISDIR(st.st_mode)) {
    if (!name.empty() && dir_header) {
      h.name = name + "/";
      h.type = layer::TarHeader::Type::kDirectory;
      BERTH_TRY_STATUS(tar.add(h));
    }
    if (depth > 512) return make_error(ErrorCode::kInvalidArgument, "directory tree too deep: " + rel);
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : sfs::directory_iterator(full, ec)) names.push_back(e.path().filename());
    if (ec) return make_error(ErrorCode::kInternal, "read directory " + rel + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) BERTH_TRY_STATUS(add_entry(root, join_rel(rel, n), join_rel(name, n), chmod, tar, depth + 1, owner, true));
    return {};
  }
  h.name = name;
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    h.type = layer::TarHeader::Type::kSymlink;
    h.linkname = sfs::read_symlink(full, ec).string();
    h.mode = S_IFLNK | 0777;
    return tar.add(h);
  }
  if (!S_ISREG(st.st_mode)) return {};  // devices, fifos and sockets are not copied
  UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return errno_error("open " + rel);
  h.type = layer::TarHeader::Type::kRegular;
  h.size = st.st_size;
  BERTH_TRY_STATUS(tar.add(h));
  std::string buf(1 << 16, '\0');
  int64_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::read(fd.get(), buf.data(), static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size()))));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(ErrorCode::kInternal, "read " + rel + ": the file changed while it was copied");
    BERTH_TRY_STATUS(tar.write_data(std::string_view(buf.data(), static_cast<size_t>(n))));
    left -= n;
  }
  return {};
}

}  // namespace

Status unpack_context(Reader& tar, const std::string& dir, const std::string& dockerfile, int64_t max_bytes,
                      const layer::TarLimits& limits) {
  BERTH_TRY_STATUS(fs::ensure_dir(dir, 0700));
  LimitedReader limited(tar, max_bytes);
  auto s = container::extract_archive(dir, "/", limited, false, true, container::Owner{0, 0}, {}, limits);
  if (!s) return std::move(s).error().wrap("unpack the build context");
  auto ignore_text = fs::read_file(dir + "/.dockerignore");
  if (ignore_text) {
    IgnoreMatcher ignore(*ignore_text);
    prune_ignored(dir, "", ignore, {clean_relative(dockerfile), ".dockerignore"});
  }
  return {};
}

Result<std::string> resolve_in_root(const std::string& root, const std::string& path, bool follow_last) {
  std::vector<std::string> todo = split_parts(path);
  std::reverse(todo.begin(), todo.end());
  std::vector<std::string> done;
  int links = 0;
  while (!todo.empty()) {
    std::string part = todo.back();
    todo.pop_back();
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(part);
    if (todo.empty() && !follow_last) break;
    std::string rel;
    for (const auto& d : done) rel = join_rel(rel, d);
    struct stat st{};
    if (::lstat((root + "/" + rel).c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
    if (++links > 40) return make_error(ErrorCode::kInvalidArgument, "too many levels of symbolic links in " + path);
    std::error_code ec;
    std::string target = sfs::read_symlink(root + "/" + rel, ec).string();
    done.pop_back();
    if (!target.empty() && target.front() == '/') done.clear();
    auto more = split_parts(target);
    for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
  }
  std::string out;
  for (const auto& d : done) out = join_rel(out, d);
  return out;
}

Result<std::vector<std::string>> match_sources(const std::string& root, const std::string& pattern) {
  auto parts = split_parts(pattern);
  std::vector<std::string> current{""};
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    std::vector<std::string> next;
    for (const auto& base : current) {
      if (part == "..") {
        auto up = resolve_in_root(root, join_rel(base, ".."), true);
        if (up) next.push_back(*up);
        continue;
      }
      auto dir = resolve_in_root(root, base, true);
      if (!dir) return dir.error();
      if (!has_wildcard(part)) {
        std::string cand = join_rel(*dir, part);
        struct stat st{};
        if (::lstat((root + "/" + cand).c_str(), &st) == 0) next.push_back(cand);
        continue;
      }
      std::error_code ec;
      for (const auto& e : sfs::directory_iterator(sfs::path(root) / *dir, ec)) {
        std::string name = e.path().filename();
        if (element_match(part, name)) next.push_back(join_rel(*dir, name));
      }
    }
    current = std::move(next);
    if (current.empty()) break;
  }
  std::vector<std::string> out;
  for (const auto& c : current) {
    auto r = resolve_in_root(root, c, true);
    if (!r) return r.error();
    struct stat st{};
    if (::lstat((root + "/" + *r).c_str(), &st) == 0) out.push_back(*r);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) {
    return make_error(ErrorCode::kNotFound, "failed to compute cache key: \"" + pattern + "\" not found: no such file or directory in the build context");
  }
  return out;
}

Result<std::string> ChecksumCache::checksum(const std::string& root, const std::string& rel) {
  std::string key = root + "\n" + rel;
  {
    std::lock_guard lock(mutex_);
    if (auto it = done_.find(key); it != done_.end()) return it->second;
  }
  Sha256 h;
  hash_tree(root, rel, h, 0);
  std::string sum = h.digest();
  std::lock_guard lock(mutex_);
  done_[key] = sum;
  return sum;
}

Status write_copy_tar(const std::string& root, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                      Writer& out) {
  layer::TarWriter tar(out);
  for (const auto& e : entries) BERTH_TRY_STATUS(add_entry(root, e.source, e.name, chmod, tar, 0, CopyOwner{}, true));
  return tar.finish();
}

Status write_copy_layer(const std::string& root, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                        const CopyOwner& owner, const std::vector<layer::TarHeader>& parents, const std::string& dest,
                        Writer& out) {
  layer::TarWriter tar(out);
  for (const auto& h : parents) BERTH_TRY_STATUS(tar.add(h));
  for (const auto& e : entries) {
    // A directory source named "" lands in `dest` itself, whose header is among `parents`.
    BERTH_TRY_STATUS(add_entry(root, e.source, join_rel(dest, e.name), chmod, tar, 0, owner, !e.name.empty()));
  }
  return tar.finish();
}

}  // namespace berth::core::build
