// Sources read by COPY/ADD and RUN --mount (see source_tree.hpp).
#include "core/build/source_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/build/dockerignore.hpp"
#include "core/common/sha256.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::core::build {
namespace {

namespace sfs = std::filesystem;

// Go's filepath.Match for one element (no "/" in name): *, ?, [...], \ escapes.
bool element_match(std::string_view pattern, std::string_view name) {
  if (pattern.find('/') != std::string_view::npos) return false;
  return glob_match(pattern, name);
}

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// The checksum's input: each entry's path, mode and size, then a link's target, a file's
// digest or a directory's entries in name order.
Status hash_tree(const SourceTree& tree, const std::string& rel, Sha256& h, int depth) {
  auto st = tree.lstat(rel);
  if (!st) return {};
  h.update(rel);
  h.update(std::string_view("\0", 1));
  h.update(std::to_string(st->mode) + ":" + std::to_string(S_ISREG(st->mode) ? st->size : 0));
  if (S_ISLNK(st->mode)) {
    h.update(tree.read_link(rel));
  } else if (S_ISREG(st->mode)) {
    auto digest = tree.file_digest(rel);
    if (!digest) return std::move(digest).error();
    h.update(*digest);
  } else if (S_ISDIR(st->mode) && depth < 256) {
    auto names = tree.list(rel);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) BERTH_TRY_STATUS(hash_tree(tree, join_rel(rel, n), h, depth + 1));
  }
  return {};
}

}  // namespace

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

std::optional<SourceStat> DiskTree::lstat(const std::string& rel) const {
  struct stat st{};
  if (::lstat(full(rel).c_str(), &st) != 0) return std::nullopt;
  return SourceStat{st.st_mode, S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : 0,
                    static_cast<int64_t>(st.st_mtim.tv_sec)};
}

namespace {
class OwnedFdReader final : public Reader {
 public:
  explicit OwnedFdReader(UniqueFd fd) : fd_(std::move(fd)), in_(fd_.get()) {}
  Result<size_t> read(char* buffer, size_t capacity) override { return in_.read(buffer, capacity); }

 private:
  UniqueFd fd_;
  FdReader in_;
};
}  // namespace

Result<std::unique_ptr<Reader>> DiskTree::open(const std::string& rel) const {
  UniqueFd fd(::open(full(rel).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return errno_error("open " + rel);
  return std::unique_ptr<Reader>(std::make_unique<OwnedFdReader>(std::move(fd)));
}

Result<std::string> DiskTree::file_digest(const std::string& rel) const {
  auto in = open(rel);
  if (!in) return std::move(in).error().wrap("checksum " + rel);
  Sha256 h;
  std::string buf(1 << 16, '\0');
  for (;;) {
    auto n = (*in)->read(buf.data(), buf.size());
    if (!n) return std::move(n).error().wrap("checksum " + rel);
    if (*n == 0) break;
    h.update(std::string_view(buf.data(), *n));
  }
  return h.hex_digest();
}

std::string DiskTree::read_link(const std::string& rel) const {
  std::error_code ec;
  return sfs::read_symlink(full(rel), ec).string();
}

std::vector<std::string> DiskTree::list(const std::string& rel) const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : sfs::directory_iterator(full(rel), ec)) names.push_back(e.path().filename());
  return names;
}


void prune_ignored(const SourceTree& tree, const std::string& rel, const IgnoreMatcher& ignore,
                   const std::set<std::string>& keep, const std::function<void(const std::string&)>& remove) {
  for (const auto& name : tree.list(rel)) {
    std::string child = join_rel(rel, name);
    if (keep.contains(child)) continue;
    auto st = tree.lstat(child);
    bool is_dir = st && S_ISDIR(st->mode);
    if (ignore.excluded(child) && !(is_dir && ignore.has_exceptions())) {
      remove(child);
      continue;
    }
    if (is_dir) prune_ignored(tree, child, ignore, keep, remove);
  }
}

Result<std::string> resolve_in_root(const SourceTree& tree, const std::string& path, bool follow_last) {
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
    auto st = tree.lstat(rel);
    if (!st || !S_ISLNK(st->mode)) continue;
    if (++links > 40) return make_error(ErrorCode::kInvalidArgument, "too many levels of symbolic links in " + path);
    std::string target = tree.read_link(rel);
    done.pop_back();
    if (!target.empty() && target.front() == '/') done.clear();
    auto more = split_parts(target);
    for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
  }
  std::string out;
  for (const auto& d : done) out = join_rel(out, d);
  return out;
}

Result<std::string> resolve_in_root(const std::string& root, const std::string& path, bool follow_last) {
  return resolve_in_root(DiskTree(root), path, follow_last);
}

Result<std::vector<std::string>> match_sources(const SourceTree& tree, const std::string& pattern) {
  auto parts = split_parts(pattern);
  std::vector<std::string> current{""};
  for (const auto& part : parts) {
    std::vector<std::string> next;
    for (const auto& base : current) {
      if (part == "..") {
        auto up = resolve_in_root(tree, join_rel(base, ".."), true);
        if (up) next.push_back(*up);
        continue;
      }
      auto dir = resolve_in_root(tree, base, true);
      if (!dir) return dir.error();
      if (!has_wildcard(part)) {
        std::string cand = join_rel(*dir, part);
        if (tree.lstat(cand)) next.push_back(cand);
        continue;
      }
      for (const auto& name : tree.list(*dir)) {
        if (element_match(part, name)) next.push_back(join_rel(*dir, name));
      }
    }
    current = std::move(next);
    if (current.empty()) break;
  }
  std::vector<std::string> out;
  for (const auto& c : current) {
    auto r = resolve_in_root(tree, c, true);
    if (!r) return r.error();
    if (tree.lstat(*r)) out.push_back(*r);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) {
    return make_error(ErrorCode::kNotFound, "failed to compute cache key: \"" + pattern + "\" not found: no such file or directory in the build context");
  }
  return out;
}

Result<std::vector<std::string>> match_sources(const std::string& root, const std::string& pattern) {
  return match_sources(DiskTree(root), pattern);
}

Result<std::string> ChecksumCache::checksum(const SourceTree& tree, const std::string& rel) {
  std::string key = tree.key() + "\n" + rel;
  {
    std::lock_guard lock(mutex_);
    if (auto it = done_.find(key); it != done_.end()) return it->second;
  }
  Sha256 h;
  BERTH_TRY_STATUS(hash_tree(tree, rel, h, 0));
  std::string sum = h.digest();
  std::lock_guard lock(mutex_);
  done_[key] = sum;
  return sum;
}

}  // namespace berth::core::build
