#include "core/image/layer_gzip.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/common/sha256.hpp"
#include "core/layer/compression.hpp"

namespace berth::core::image {
namespace {

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

std::string text_bytes(size_t n) {
  std::string out;
  for (int i = 0; out.size() < n; ++i) out += "line " + std::to_string(i) + " of a config file\n";
  out.resize(n);
  return out;
}

std::string gunzip(const std::string& blob) {
  StringReader in(blob);
  StringWriter out;
  EXPECT_TRUE(layer::decompress(in, out));
  return out.take();
}

// Answers at most `max` bytes per read, as a pipe or a socket may.
class TrickleReader final : public Reader {
 public:
  TrickleReader(std::string data, size_t max) : data_(std::move(data)), max_(max) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    size_t n = std::min({capacity, max_, data_.size() - at_});
    data_.copy(buffer, n, at_);
    at_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t max_;
  size_t at_ = 0;
};

TEST(LayerGzip, EntropyTellsRandomFromText) {
  EXPECT_GT(byte_entropy(random_bytes(1 << 20, 1)), 7.99);
  EXPECT_LT(byte_entropy(text_bytes(1 << 20)), 6.0);
  EXPECT_EQ(byte_entropy(std::string(4096, 'a')), 0.0);
  EXPECT_TRUE(looks_incompressible(random_bytes(1 << 20, 2)));
  EXPECT_FALSE(looks_incompressible(text_bytes(1 << 20)));
  EXPECT_FALSE(looks_incompressible(random_bytes(100, 3)));  // too short to judge
}

TEST(LayerGzip, MixedLayerRoundTripsWithStoredAndDeflatedSteps) {
  // Text, random, text, random: the level changes three times, mid-stream.
  std::string tar = text_bytes(kLayerGzipStep) + random_bytes(2 * kLayerGzipStep, 4) +
                    text_bytes(kLayerGzipStep + 1234) + random_bytes(kLayerGzipStep / 2, 5);
  StringReader in(tar);
  StringWriter out;
  LayerGzipStats stats;
  auto blob = gzip_layer(in, out, &stats);
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(blob->digest, Sha256::of(out.str()));
  EXPECT_EQ(blob->size, static_cast<int64_t>(out.str().size()));
  EXPECT_EQ(blob->media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  EXPECT_EQ(gunzip(out.str()), tar);
  EXPECT_EQ(stats.stored_steps, 3);  // two random steps; the last step is mostly random
  EXPECT_EQ(stats.compressed_steps, 2);
  // Random data costs only the stored blocks' few bytes of framing; text still shrinks.
  EXPECT_LT(out.str().size(), tar.size());
}

TEST(LayerGzip, SameTarSameDigestHoweverItIsRead) {
  std::string tar = random_bytes(kLayerGzipStep + 5000, 6) + text_bytes(3 * kLayerGzipStep);
  StringReader whole(tar);
  TrickleReader trickle(tar, 7777);
  StringWriter a, b;
  auto first = gzip_layer(whole, a);
  auto second = gzip_layer(trickle, b);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->digest, second->digest);
  EXPECT_EQ(a.str(), b.str());
}

TEST(LayerGzip, EmptyTarIsAValidGzip) {
  StringReader in("");
  StringWriter out;
  auto blob = gzip_layer(in, out);
  ASSERT_TRUE(blob);
  EXPECT_EQ(gunzip(out.str()), "");
}

}  // namespace
}  // namespace berth::core::image
