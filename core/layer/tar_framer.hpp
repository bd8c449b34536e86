// The block structure of a tar stream, read as it flows by: which bytes are headers and metadata
// (pax and GNU long-name records, padding, the end-of-archive blocks and what trails them), and
// which are the content of an entry. Pure (no I/O), fed in pieces of any size.
//
// Two users: the layer pipeline refuses input that is not a tar (a stream that never starts
// one, or megabytes after its end: a gzip of zeros is not an empty image), and the tar-split
// recorder keeps every byte but the file contents, so a layer is stored once (its extracted
// files) and its exact tar can still be rebuilt for save and push (as dockerd's tar-split).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::core::layer {

struct TarEntryInfo {
  char type = '0';       // ustar typeflag ('0' regular, '5' directory, ...)
  std::string path;      // cleaned: no leading "/" or "./", no "..", as the applier places it
  int64_t size = 0;      // bytes of content that follow the header
  bool sparse = false;   // GNU sparse (old 'S' or pax GNU.sparse.*): content is not the file
  // The content is exactly the bytes of the regular file at `path` once applied.
  bool content_is_file() const;
};

// Receives the stream, cut at its structure. Every byte fed reaches exactly one of meta() or
// content(), in order.
class TarFrameSink {
 public:
  virtual ~TarFrameSink() = default;
  // Header blocks, pax/GNU metadata records, padding, end-of-archive blocks and trailing bytes.
  virtual Status meta(std::string_view bytes) = 0;
  // An entry's headers are complete (its meta bytes were delivered); its content follows.
  virtual Status entry(const TarEntryInfo& entry) = 0;
  // Content bytes of the last entry.
  virtual Status content(std::string_view bytes) = 0;
};

class TarFramer {
 public:
  // At most this many bytes may follow the end-of-archive marker (tar pads to its record size,
  // 10 KiB by default and 1 MiB at most in practice); more is not a tar.
  static constexpr int64_t kMaxTrailer = 1 << 20;

  explicit TarFramer(TarFrameSink* sink = nullptr) : sink_(sink) {}

  // kInvalidArgument for a damaged header (bad checksum, bad size) or too much after the end.
  Status feed(std::string_view data);
  // At the end of the input: a stream cut inside an entry is an error; one with no end marker
  // but complete entries is accepted (libarchive accepts it too).
  Status finish();

  bool ended() const { return state_ == State::kTrailer; }
  int64_t entries() const { return entries_; }
  int64_t offset() const { return offset_; }

 private:
  enum class State { kHeader, kMetaRecord, kContent, kPadding, kTrailer };
  Status header_block(std::string_view block);
  Status meta_record_done();
  Status emit_meta(std::string_view bytes);

  TarFrameSink* sink_;
  State state_ = State::kHeader;
  std::string block_;       // a header block being collected
  std::string record_;      // a pax or GNU long-name record being collected
  char record_type_ = 0;
  int64_t left_ = 0;        // bytes left in the current content/record
  int64_t padding_ = 0;     // padding bytes left after it
  int64_t trailer_ = 0;
  int64_t offset_ = 0;
  int64_t entries_ = 0;
  // From pax/GNU records, for the next entry only.
  std::string next_path_;
  int64_t next_size_ = -1;
  bool next_sparse_ = false;
};

// "./a/../b/" → "b"; "" for the root itself and for names climbing out of it. Cleaned as the
// applier cleans member names (clean_path), so both name an entry the same way.
std::string clean_entry_path(std::string_view raw);

}  // namespace berth::core::layer
