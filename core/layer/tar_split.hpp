// A layer stored once: its files live in the storage driver's snapshot, and a small "tar split"
// keeps every other byte of the original tar (headers, pax and long-name records, padding, the
// end blocks, the content of entries that are not plain files) with, for each regular file, only
// its path and size. Replaying the split against a read-only view of the layer yields the exact
// tar again, checked against the layer's DiffID, for save and push: dockerd's tar-split, in our
// own format (binary records, gzipped).
//
// One subtlety: a tar may name the same file twice (a later entry replaces an earlier one), or
// whiteout a file it added. The file on disk then holds only the last content, so the applier
// calls before_apply() before each entry and the recorder keeps the earlier content in a side
// file ("captures") just before it is overwritten. Anything else that makes a file differ from
// its entry is caught by the DiffID check when the tar is rebuilt.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/tar_framer.hpp"

namespace berth::core::layer {

// Records the split of a tar while it flows through a TarFramer.
class SplitRecorder final : public TarFrameSink {
 public:
  // `out` receives the split records (the caller compresses and stores them); `captures_path`
  // is created only if a capture is ever needed.
  SplitRecorder(Writer& out, std::filesystem::path captures_path);
  ~SplitRecorder() override;

  Status meta(std::string_view bytes) override;
  Status entry(const TarEntryInfo& entry) override;
  Status content(std::string_view bytes) override;

  // The applier is about to apply its `index`-th entry (0-based, tar order) named `path`
  // (cleaned) beneath `root_fd`: keep the current content of a file an earlier entry referenced
  // if this entry is going to replace or whiteout it.
  Status before_apply(int64_t index, const std::string& path, int root_fd);

  // Flushes the last records. The split is complete only after this.
  Status finish();
  int64_t tar_size() const { return tar_size_; }
  bool has_captures() const { return captures_ != nullptr; }

 private:
  struct Seen {
    std::string path;
    int64_t ref = -1;  // file reference number, -1 when the entry has none
    bool whiteout = false;
  };
  Status write_record(std::string_view record);
  Status flush_meta();
  Status capture(int64_t ref, const std::string& path, int root_fd);

  Writer& out_;
  std::filesystem::path captures_path_;
  std::unique_ptr<FdWriter> captures_;
  UniqueFd captures_fd_;
  std::string pending_meta_;
  bool started_ = false;
  int64_t tar_size_ = 0;
  int64_t next_ref_ = 0;
  int64_t content_left_ = 0;   // of the current file-backed entry
  std::deque<Seen> ahead_;     // entries framed but not yet applied (read-ahead)
  int64_t first_ahead_ = 0;    // index of ahead_.front()
  std::map<std::string, int64_t> applied_refs_;  // path → last reference applied
};

// The tar rebuilt from a split (already decompressed) and the layer's files beneath `root_fd`.
// The last read fails when the bytes do not hash to `diff_id`.
class SplitReplay final : public Reader {
 public:
  SplitReplay(Reader& split, int root_fd, std::optional<std::filesystem::path> captures,
              std::string diff_id);
  ~SplitReplay() override;
  Result<size_t> read(char* buffer, size_t capacity) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::core::layer
