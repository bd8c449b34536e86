// The build context as the client sent it, indexed in memory while its tar streams in: each
// entry's type, mode, size, link target and content digest, laid out as unpacking the tar would
// lay it out (same parents, same replacements, .dockerignore applied), so a fully cached build
// computes its keys without writing a file. The tar itself is kept (build_context.hpp) and
// unpacked only when a step needs the files.
//
// What the index does not model (a member placed through a symlinked directory, a hard link to
// something that is not there) makes it inexact: the caller then
// unpacks at once and reads the directory, which also gives the extractor's own error.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/build/source_tree.hpp"
#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/tar_stream.hpp"

namespace berth::core::build {

class ContextIndex final : public SourceTree {
 public:
  // Reads the whole tar (any compression TarStream knows) from `tar`, writing it uncompressed to
  // `spool` (a file: offsets into it locate each regular file's bytes for open()). The contents of
  // `dockerfile` (a path inside the context) and of .dockerignore are kept when they are
  // regular files. Errors are the tar's own (corrupt, over a limit), worded as the extractor's.
  static Result<std::unique_ptr<ContextIndex>> read(Reader& tar, const std::string& dockerfile,
                                                    const layer::TarLimits& limits, Writer& spool);
  // The spool's fd for open(), valid while the index is used.
  void attach_spool(int fd) { spool_fd_ = fd; }
  // Whether open() can give every regular file's bytes from the spool (not for sparse members).
  bool contents_complete() const { return contents_complete_; }

  // Whether the index is the unpacked directory's exact image (see above).
  bool exact() const { return exact_; }
  // The Dockerfile's text, when it was a regular file at that path in the tar.
  const std::optional<std::string>& dockerfile_text() const { return dockerfile_text_; }

  std::optional<SourceStat> lstat(const std::string& rel) const override;
  std::string read_link(const std::string& rel) const override;
  std::vector<std::string> list(const std::string& rel) const override;
  Result<std::string> file_digest(const std::string& rel) const override;
  const std::string& key() const override { return key_; }
  Result<std::unique_ptr<Reader>> open(const std::string& rel) const override;

 private:
  struct Node {
    mode_t mode = 0;
    int64_t size = 0;
    int64_t mtime = 0;
    int64_t offset = -1;  // where a regular file's bytes start in the spool
    std::string link;    // a symlink's target
    std::string digest;  // a regular file's SHA-256, hex
    std::map<std::string, std::unique_ptr<Node>> children;
  };
  class Reading;
  ContextIndex();
  const Node* find(const std::string& rel) const;
  void erase(const std::string& rel);  // .dockerignore's removals

  std::unique_ptr<Node> root_;
  bool exact_ = true;
  bool contents_complete_ = true;
  int spool_fd_ = -1;
  std::optional<std::string> dockerfile_text_;
  std::string key_;
};

}  // namespace berth::core::build
