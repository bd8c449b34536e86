// The uncompressed bytes of a tar that a client or a registry sends, as the applier and the
// archive extractor read them: decompressed (any format DecompressReader knows), hashed (the
// DiffID), framed (input that is not a tar is refused), optionally recorded (tar split), and
// bounded, so one request cannot make berthd write more than the operator allows.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/common/io.hpp"
#include "core/common/result.hpp"
#include "core/layer/tar_framer.hpp"

namespace berth::core::layer {

// daemon.json's max-layer-size and max-expansion-ratio; 0 means no bound.
struct TarLimits {
  int64_t max_bytes = 0;
  int max_ratio = 0;
  // The ratio is only judged past this many uncompressed bytes: small, very compressible files
  // (a config of zeros) are fine; gigabytes from a few kilobytes are not.
  int64_t ratio_floor = int64_t{64} << 20;
};

class TarStream final : public Reader {
 public:
  // `sink` (may be null) sees the tar's structure as it flows by (a SplitRecorder).
  TarStream(Reader& in, TarLimits limits, TarFrameSink* sink = nullptr);
  ~TarStream() override;
  TarStream(const TarStream&) = delete;
  TarStream& operator=(const TarStream&) = delete;

  Result<size_t> read(char* buffer, size_t capacity) override;

  // Reads what the consumer left (tar padding), checks that the input was a whole tar, and
  // returns "sha256:<hex>" of every uncompressed byte: the DiffID.
  Result<std::string> finish();

  int64_t uncompressed_bytes() const;
  int64_t entries() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::core::layer
