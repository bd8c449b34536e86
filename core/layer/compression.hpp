// Layer blob compression: detection by magic bytes (as dockerd's DetectCompression), streaming
// decompression of every format a registry may serve, and gzip for pushes.
#pragma once

#include <memory>
#include <string_view>

#include "core/common/io.hpp"
#include "core/common/result.hpp"

namespace berth::core::layer {

enum class Compression { kNone, kGzip, kBzip2, kXz, kZstd };

std::string_view compression_name(Compression c);

// Needs the first 6 bytes for xz; fewer bytes can only match the shorter magics.
Compression detect(std::string_view first_bytes);

// A Reader of the decompressed bytes of `in`, which may be gzip, bzip2, xz or zstd (told apart
// by magic) or not compressed at all (passed through unchanged). gzip goes through zlib so its
// CRC and length are checked and concatenated members are read, as Go's gzip reader does;
// the others through libarchive. Corrupt or cut streams are kInvalidArgument.
class DecompressReader final : public Reader {
 public:
  explicit DecompressReader(Reader& in);
  ~DecompressReader() override;
  DecompressReader(const DecompressReader&) = delete;
  DecompressReader& operator=(const DecompressReader&) = delete;

  Result<size_t> read(char* buffer, size_t capacity) override;
  // Known after the first read.
  Compression compression() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Copies `in` to `out` through a DecompressReader.
Status decompress(Reader& in, Writer& out);

// A Writer that gzips into `out`. finish() writes the trailer; without it the stream is cut.
class GzipWriter final : public Writer {
 public:
  // level: 0-9, or -1 for zlib's default (what dockerd uses).
  explicit GzipWriter(Writer& out, int level = -1);
  ~GzipWriter() override;
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  Status write(std::string_view data) override;
  Status finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Status gzip_compress(Reader& in, Writer& out, int level = -1);

}  // namespace berth::core::layer
