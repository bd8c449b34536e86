// The gzip a pushed layer is made of, in one pass over its tar: compressed, hashed and written
// together. Each 1 MiB of tar is looked at first: where its bytes are already as varied as
// random data (compressed files, media, encrypted or random content), deflate would spend its
// time and save nothing, so that stretch goes into gzip's stored blocks instead (level 0: a
// copy and a CRC); everything else gets zlib's fastest level. The choice depends on the bytes
// alone, in fixed 1 MiB steps, so the same tar always gives the same blob and digest.
#pragma once

#include <string_view>

#include "berth/sdk/registry_transport.hpp"
#include "core/common/io.hpp"
#include "core/common/result.hpp"

namespace berth::core::image {

inline constexpr size_t kLayerGzipStep = 1 << 20;

// Shannon entropy of the bytes of `data`, in bits per byte (0 to 8).
double byte_entropy(std::string_view data);

// True where deflate cannot be expected to gain anything (entropy of at least 7.95 bits/byte,
// which text, binaries and tar headers never reach).
bool looks_incompressible(std::string_view data);

struct LayerGzipStats {
  int64_t stored_steps = 0;      // 1 MiB steps written as stored blocks
  int64_t compressed_steps = 0;  // steps deflated
};

// Gzips `tar` into `out` (no name or time in the gzip header) and returns the blob's
// descriptor (Docker's gzip layer media type, sha256 and size of the compressed bytes).
Result<sdk::Descriptor> gzip_layer(Reader& tar, Writer& out, LayerGzipStats* stats = nullptr);

}  // namespace berth::core::image
