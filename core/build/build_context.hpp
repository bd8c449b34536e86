// The files a build reads: the context (the client's tar, unpacked once per build into a
// private directory with .dockerignore applied) and, for COPY --from, a stage's or image's root.
// Source paths are resolved inside their root: symlinks are followed as if the root were "/",
// so a link in the context can never make COPY read a file outside it.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/tar_stream.hpp"
#include "core/layer/tar_writer.hpp"

namespace berth::core::build {

// Unpacks the context tar (any compression) into `dir` (created, must not exist) and removes
// what .dockerignore excludes, keeping the Dockerfile named `dockerfile` and .dockerignore.
// A context over `max_bytes` (0: no limit) is refused.
Status unpack_context(Reader& tar, const std::string& dir, const std::string& dockerfile, int64_t max_bytes,
                      const layer::TarLimits& limits);

// `path` (relative or absolute, "/"-separated) resolved inside `root`, symlinks followed with
// `root` as "/": the cleaned relative result ("" for the root itself). `follow_last`: whether a
// symlink as the last element is followed. kInvalidArgument on a symlink loop.
Result<std::string> resolve_in_root(const std::string& root, const std::string& path, bool follow_last);

// COPY/ADD sources: a path or wildcard pattern (Go filepath.Match per element) inside `root`;
// the matches as relative paths, sorted. kNotFound names the pattern when nothing matches.
Result<std::vector<std::string>> match_sources(const std::string& root, const std::string& pattern);

// Content checksums of source paths (names, modes, link targets and file bytes of a tree),
// computed once per path and remembered for the rest of the build.
class ChecksumCache {
 public:
  Result<std::string> checksum(const std::string& root, const std::string& rel);

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> done_;
};

struct CopyEntry {
  std::string source;  // relative to the source root ("" = the root itself)
  std::string name;    // entry name in the tar: where it lands relative to the destination dir
};

// A tar of `entries` (a directory contributes its contents under `name`/; `name` "" puts them
// at the top). `chmod`: permissions forced on every entry when set. Owners are left 0: the
// extraction sets them.
Status write_copy_tar(const std::string& root, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                      Writer& out);

struct CopyOwner {
  int64_t uid = 0;
  int64_t gid = 0;
};

// COPY's layer itself (what a commit of the step's container would hold, without the round trip
// through a container's upper directory): `parents` (the destination directory and the ones
// above it, as headers), then `entries` below `dest` (relative, no leading "/"), owned by `owner`.
Status write_copy_layer(const std::string& root, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                        const CopyOwner& owner, const std::vector<layer::TarHeader>& parents, const std::string& dest,
                        Writer& out);

}  // namespace berth::core::build
