#include "core/layer/tar_stream.hpp"

#include "core/common/sha256.hpp"
#include "core/layer/compression.hpp"

namespace berth::core::layer {
namespace {

class CountingReader final : public Reader {
 public:
  explicit CountingReader(Reader& in) : in_(in) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    auto n = in_.read(buffer, capacity);
    if (n) count_ += static_cast<int64_t>(*n);
    return n;
  }
  int64_t count() const { return count_; }

 private:
  Reader& in_;
  int64_t count_ = 0;
};

std::string human(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace

struct TarStream::Impl {
  CountingReader compressed;
  DecompressReader plain;
  TarLimits limits;
  TarFramer framer;
  Sha256 hash;
  int64_t total = 0;
  bool at_end = false;

  Impl(Reader& in, TarLimits l, TarFrameSink* sink)
      : compressed(in), plain(compressed), limits(l), framer(sink) {}

  Status check_limits() {
    if (limits.max_bytes > 0 && total > limits.max_bytes) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the archive unpacks to more than " + human(limits.max_bytes) +
                            ", the largest layer this daemon accepts (max-layer-size in "
                            "daemon.json)");
    }
    if (limits.max_ratio > 0 && total > limits.ratio_floor && compressed.count() > 0 &&
        total / compressed.count() > limits.max_ratio) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the archive unpacks to " + human(total) + " from " +
                            human(compressed.count()) + ", more than " +
                            std::to_string(limits.max_ratio) +
                            " times its compressed size (max-expansion-ratio in daemon.json): "
                            "refused as a decompression bomb");
    }
    return {};
  }
};

TarStream::TarStream(Reader& in, TarLimits limits, TarFrameSink* sink)
    : impl_(std::make_unique<Impl>(in, limits, sink)) {}

TarStream::~TarStream() = default;

Result<size_t> TarStream::read(char* buffer, size_t capacity) {
  auto n = impl_->plain.read(buffer, capacity);
  if (!n) return n;
  if (*n == 0) {
    impl_->at_end = true;
    return n;
  }
  std::string_view data(buffer, *n);
  impl_->total += static_cast<int64_t>(*n);
  BERTH_TRY_STATUS(impl_->check_limits());
  impl_->hash.update(data);
  BERTH_TRY_STATUS(impl_->framer.feed(data));
  return n;
}

Result<std::string> TarStream::finish() {
  std::string buffer(1 << 16, '\0');
  while (!impl_->at_end) {
    auto n = read(buffer.data(), buffer.size());
    if (!n) return std::move(n).error();
  }
  // An empty input is an empty layer (Go's tar reader, hence dockerd, reads it so).
  BERTH_TRY_STATUS(impl_->framer.finish());
  return impl_->hash.digest();
}

int64_t TarStream::uncompressed_bytes() const { return impl_->total; }
int64_t TarStream::entries() const { return impl_->framer.entries(); }

}  // namespace berth::core::layer
