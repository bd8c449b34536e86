// What COPY/ADD and RUN --mount read their sources from: a directory on disk (a stage's or an
// image's mounted root, heredocs, downloads, an unpacked context) or the build context's index
// (the client's tar, read once in memory; its files reach the disk only when a step needs them).
// Resolution, wildcard matching and checksums work the same on both, so a cache key does not
// depend on whether the context was unpacked.
//
// Paths are resolved inside the tree: symlinks are followed as if the tree's root were "/", so a
// link in the context can never make COPY read a file outside it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/common/io.hpp"
#include "core/common/result.hpp"

namespace berth::core::build {

struct SourceStat {
  mode_t mode = 0;    // type and permission bits, as lstat(2) gives them
  int64_t size = 0;   // bytes of a regular file, else 0
  int64_t mtime = 0;  // unix seconds
};

class SourceTree {
 public:
  virtual ~SourceTree() = default;
  // `rel`: "/"-separated, relative to the root ("" is the root itself), never followed at its
  // last element. nullopt when nothing is there.
  virtual std::optional<SourceStat> lstat(const std::string& rel) const = 0;
  // A symlink's target as stored.
  virtual std::string read_link(const std::string& rel) const = 0;
  // The names in directory `rel`, in no particular order.
  virtual std::vector<std::string> list(const std::string& rel) const = 0;
  // Lowercase hex SHA-256 of regular file `rel`'s bytes.
  virtual Result<std::string> file_digest(const std::string& rel) const = 0;
  // Names the tree for caches: two trees with the same key hold the same files.
  virtual const std::string& key() const = 0;
  // Regular file `rel`'s bytes.
  virtual Result<std::unique_ptr<Reader>> open(const std::string& rel) const = 0;
};

class DiskTree final : public SourceTree {
 public:
  explicit DiskTree(std::string root) : root_(std::move(root)) {}
  std::optional<SourceStat> lstat(const std::string& rel) const override;
  std::string read_link(const std::string& rel) const override;
  std::vector<std::string> list(const std::string& rel) const override;
  Result<std::string> file_digest(const std::string& rel) const override;
  const std::string& key() const override { return root_; }
  Result<std::unique_ptr<Reader>> open(const std::string& rel) const override;

 private:
  std::string full(const std::string& rel) const { return rel.empty() ? root_ : root_ + "/" + rel; }
  std::string root_;
};

// `path` (relative or absolute) resolved inside the tree, symlinks followed with the root as "/":
// the cleaned relative result ("" for the root itself). `follow_last`: whether a symlink as the
// last element is followed. kInvalidArgument on a symlink loop.
Result<std::string> resolve_in_root(const SourceTree& tree, const std::string& path, bool follow_last);
Result<std::string> resolve_in_root(const std::string& root, const std::string& path, bool follow_last);

// COPY/ADD sources: a path or wildcard pattern (Go filepath.Match per element) inside the tree;
// the matches as relative paths, sorted. kNotFound names the pattern when nothing matches.
Result<std::vector<std::string>> match_sources(const SourceTree& tree, const std::string& pattern);
Result<std::vector<std::string>> match_sources(const std::string& root, const std::string& pattern);

// Content checksums of source paths: names, modes, link targets and each file's SHA-256, over
// a whole tree for a directory. Computed once per path and remembered for the rest of the build.
class ChecksumCache {
 public:
  Result<std::string> checksum(const SourceTree& tree, const std::string& rel);
  Result<std::string> checksum(const std::string& root, const std::string& rel) {
    return checksum(DiskTree(root), rel);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> done_;
};

class IgnoreMatcher;

// .dockerignore applied to a context laid out in `tree`, from directory `rel` down: `remove` is
// called for each excluded path that goes. `keep` (the Dockerfile, .dockerignore) always stays,
// and an excluded directory is walked instead when the patterns have exceptions, which may bring
// back something below it. The unpacked directory and the index are pruned by this one rule.
void prune_ignored(const SourceTree& tree, const std::string& rel, const IgnoreMatcher& ignore,
                   const std::set<std::string>& keep, const std::function<void(const std::string&)>& remove);

// "a" + "b" as "a/b", either side may be "".
std::string join_rel(const std::string& a, const std::string& b);
// The non-empty, non-"." elements of a "/"-separated path.
std::vector<std::string> split_parts(const std::string& path);

}  // namespace berth::core::build
