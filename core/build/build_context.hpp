// The build context: the client's tar, kept uncompressed in a spool file beside the directory it
// may be unpacked into, and indexed in memory (context_index.hpp), so cache keys need no file of
// it on disk and COPY reads its sources from the spool. The files are unpacked (once per build,
// into a private directory, .dockerignore applied) only when a step that misses the cache needs
// a directory: ADD, RUN --mount=type=bind. Also: the tars COPY writes from a source tree.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/build/context_index.hpp"
#include "core/build/source_tree.hpp"
#include "core/common/io.hpp"
#include "core/common/unique_fd.hpp"
#include "core/common/result.hpp"
#include "core/layer/tar_stream.hpp"
#include "core/layer/tar_writer.hpp"

namespace berth::core::build {

class BuildContext {
 public:
  // Reads the context tar from `body` (any compression; refused past `max_bytes`, 0: no limit)
  // into `dir`.tar and the index. `dir` is where the files go if a step needs them. On an error
  // nothing is left behind.
  static Result<std::unique_ptr<BuildContext>> receive(Reader& body, const std::string& dir, const std::string& dockerfile,
                                                       int64_t max_bytes, const layer::TarLimits& limits);
  // Removes the directory and the spool.
  ~BuildContext();
  BuildContext(const BuildContext&) = delete;
  BuildContext& operator=(const BuildContext&) = delete;

  // What cache keys are computed from: the index, or the unpacked directory when the index is
  // not exact (then it was unpacked at once).
  const SourceTree& tree() const;
  // The tree COPY can read files from without unpacking (the index over the spool), or nullptr
  // when the files must come from directory().
  const SourceTree* contents() const;
  // The Dockerfile named at receive().
  Result<std::string> dockerfile_text();
  // The unpacked directory, unpacking it on the first call (safe from parallel stages).
  Result<std::string> directory();
  bool unpacked();

 private:
  BuildContext(std::string dir, std::string dockerfile, layer::TarLimits limits)
      : dir_(std::move(dir)), spool_(dir_ + ".tar"), dockerfile_(std::move(dockerfile)), limits_(limits),
        disk_(dir_) {}

  std::string dir_;
  std::string spool_;  // the tar, uncompressed
  UniqueFd spool_fd_;
  std::string dockerfile_;
  layer::TarLimits limits_;
  std::unique_ptr<ContextIndex> index_;
  DiskTree disk_;
  std::mutex unpack_mutex_;
  bool unpacked_ = false;
  std::optional<Error> unpack_error_;
};

// Unpacks the context tar (any compression) into `dir` (created, must not exist) and removes
// what .dockerignore excludes, keeping the Dockerfile named `dockerfile` and .dockerignore.
// A context over `max_bytes` (0: no limit) is refused.
Status unpack_context(Reader& tar, const std::string& dir, const std::string& dockerfile, int64_t max_bytes,
                      const layer::TarLimits& limits);

struct CopyEntry {
  std::string source;  // relative to the source root ("" = the root itself)
  std::string name;    // entry name in the tar: where it lands relative to the destination dir
};

// A tar of `entries` (a directory contributes its contents under `name`/; `name` "" puts them
// at the top). `chmod`: permissions forced on every entry when set. Owners are left 0: the
// extraction sets them.
Status write_copy_tar(const SourceTree& tree, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                      Writer& out);

struct CopyOwner {
  int64_t uid = 0;
  int64_t gid = 0;
};

// COPY's layer itself (what a commit of the step's container would hold, without the round trip
// through a container's upper directory): `parents` (the destination directory and the ones
// above it, as headers), then `entries` below `dest` (relative, no leading "/"), owned by `owner`.
Status write_copy_layer(const SourceTree& tree, const std::vector<CopyEntry>& entries, std::optional<uint32_t> chmod,
                        const CopyOwner& owner, const std::vector<layer::TarHeader>& parents, const std::string& dest,
                        Writer& out);

}  // namespace berth::core::build
