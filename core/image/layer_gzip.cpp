#include "core/image/layer_gzip.hpp"

#include <zlib.h>

#include <array>
#include <cmath>
#include <memory>

#include "core/common/sha256.hpp"
#include "core/image/image_config.hpp"

namespace berth::core::image {
namespace {

constexpr double kIncompressibleBits = 7.95;

// Reads until `buffer` is full or the tar ends: the level decision must see the same steps
// however the reader happens to split its answers.
Result<size_t> read_step(Reader& in, std::string& buffer) {
  size_t filled = 0;
  while (filled < buffer.size()) {
    auto n = in.read(buffer.data() + filled, buffer.size() - filled);
    if (!n) return n.error();
    if (*n == 0) break;
    filled += *n;
  }
  return filled;
}

}  // namespace

double byte_entropy(std::string_view data) {
  if (data.empty()) return 0;
  std::array<uint64_t, 256> counts{};
  for (unsigned char c : data) ++counts[c];
  double bits = 0;
  const double total = static_cast<double>(data.size());
  for (uint64_t n : counts) {
    if (n == 0) continue;
    double p = static_cast<double>(n) / total;
    bits -= p * std::log2(p);
  }
  return bits;
}

bool looks_incompressible(std::string_view data) {
  // Below a few KiB the estimate is too noisy to mean anything; deflate is cheap there anyway.
  return data.size() >= 4096 && byte_entropy(data) >= kIncompressibleBits;
}

Result<sdk::Descriptor> gzip_layer(Reader& tar, Writer& out, LayerGzipStats* stats) {
  z_stream z{};
  int level = Z_BEST_SPEED;
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return make_error(ErrorCode::kInternal, "gzip: deflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
  std::string in(kLayerGzipStep, '\0');
  std::string buffer(kLayerGzipStep + 64 * 1024, '\0');
  Sha256 hash;
  int64_t size = 0;
  auto emit = [&](size_t produced) -> Status {
    std::string_view chunk(buffer.data(), produced);
    hash.update(chunk);
    size += static_cast<int64_t>(produced);
    return out.write(chunk);
  };
  for (bool end = false; !end;) {
    auto n = read_step(tar, in);
    if (!n) return n.error();
    end = *n < in.size();
    std::string_view step(in.data(), *n);
    int wanted = looks_incompressible(step) ? Z_NO_COMPRESSION : Z_BEST_SPEED;
    if (stats && !step.empty()) ++(wanted == Z_NO_COMPRESSION ? stats->stored_steps : stats->compressed_steps);
    if (wanted != level) {
      // deflateParams finishes the pending block at the old level; it may need several rounds
      // of output space (Z_BUF_ERROR) before it takes the new one.
      for (;;) {
        z.next_in = nullptr;
        z.avail_in = 0;
        z.next_out = reinterpret_cast<Bytef*>(buffer.data());
        z.avail_out = static_cast<uInt>(buffer.size());
        int rc = deflateParams(&z, wanted, Z_DEFAULT_STRATEGY);
        size_t produced = buffer.size() - z.avail_out;
        BERTH_TRY_STATUS(emit(produced));
        if (rc == Z_OK) break;
        if (rc != Z_BUF_ERROR || produced == 0) {
          return make_error(ErrorCode::kInternal, "gzip: deflateParams failed to change level");
        }
      }
      level = wanted;
    }
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(*n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(buffer.data());
      z.avail_out = static_cast<uInt>(buffer.size());
      int rc = deflate(&z, end ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) return make_error(ErrorCode::kInternal, "gzip: deflate failed");
      BERTH_TRY_STATUS(emit(buffer.size() - z.avail_out));
    } while (z.avail_out == 0 || z.avail_in > 0);
  }
  return sdk::Descriptor{std::string(kDockerLayerGzipType), hash.digest(), size};
}

}  // namespace berth::core::image
