#include "core/layer/compression.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/unit/layer/test_util.hpp"

namespace berth::core::layer {
namespace {

using namespace testing;  // NOLINT

// Compresses `data` with libarchive's filters in raw format (a single stream, no tar).
std::string compress_with_libarchive(const std::string& data, TarBuilder::Filter filter) {
  std::string out;
  archive* a = archive_write_new();
  switch (filter) {
    case TarBuilder::Filter::kNone:
      break;
    case TarBuilder::Filter::kGzip:
      archive_write_add_filter_gzip(a);
      break;
    case TarBuilder::Filter::kBzip2:
      archive_write_add_filter_bzip2(a);
      break;
    case TarBuilder::Filter::kXz:
      archive_write_add_filter_xz(a);
      break;
    case TarBuilder::Filter::kZstd:
      archive_write_add_filter_zstd(a);
      break;
  }
  archive_write_set_format_raw(a);
  archive_write_set_bytes_per_block(a, 0);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* self, const void* buf, size_t len) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(buf), len);
        return static_cast<la_ssize_t>(len);
      },
      nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "data");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string sample(size_t size) {
  std::mt19937 gen(7);
  std::string out(size, '\0');
  // Compressible but not trivially: words from a small alphabet.
  for (auto& c : out) c = static_cast<char>('a' + gen() % 8);
  return out;
}

// A reader that hands out at most `step` bytes per call, as sockets do.
class DribbleReader final : public Reader {
 public:
  DribbleReader(std::string_view data, size_t step) : data_(data), step_(step) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    size_t n = std::min({capacity, step_, data_.size()});
    data_.copy(buffer, n);
    data_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view data_;
  size_t step_;
};

class FailingReader final : public Reader {
 public:
  Result<size_t> read(char*, size_t) override {
    return make_error(ErrorCode::kUnavailable, "connection reset");
  }
};

TEST(CompressionTest, DetectByMagic) {
  using namespace std::string_view_literals;
  EXPECT_EQ(detect("\x1f\x8b\x08\x00"sv), Compression::kGzip);
  EXPECT_EQ(detect("BZh91AY"sv), Compression::kBzip2);
  EXPECT_EQ(detect("\xfd\x37\x7a\x58\x5a\x00\x00"sv), Compression::kXz);
  EXPECT_EQ(detect("\x28\xb5\x2f\xfd\x00"sv), Compression::kZstd);
  EXPECT_EQ(detect(""sv), Compression::kNone);
  EXPECT_EQ(detect("\x1f"sv), Compression::kNone);
  EXPECT_EQ(detect("\xfd\x37\x7a\x58\x5a"sv), Compression::kNone) << "xz needs all 6 bytes";
  EXPECT_EQ(detect("ustar\0"sv), Compression::kNone);
  EXPECT_EQ(compression_name(Compression::kZstd), "zstd");
  for (auto filter : {TarBuilder::Filter::kGzip, TarBuilder::Filter::kBzip2,
                      TarBuilder::Filter::kXz, TarBuilder::Filter::kZstd}) {
    auto compressed = compress_with_libarchive("x", filter);
    EXPECT_NE(detect(compressed), Compression::kNone);
  }
}

class DecompressTest : public ::testing::TestWithParam<TarBuilder::Filter> {};

TEST_P(DecompressTest, RoundTrip) {
  const std::string data = sample(300000);
  auto compressed = compress_with_libarchive(data, GetParam());
  ASSERT_NE(compressed, data);
  DribbleReader in(compressed, 3);  // magic split across reads
  StringWriter out;
  auto st = decompress(in, out);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(out.str(), data);
}

INSTANTIATE_TEST_SUITE_P(Filters, DecompressTest,
                         ::testing::Values(TarBuilder::Filter::kGzip, TarBuilder::Filter::kBzip2,
                                           TarBuilder::Filter::kXz, TarBuilder::Filter::kZstd));

TEST(CompressionTest, UncompressedPassesThrough) {
  for (const std::string& data : {std::string(), std::string("BZ"), sample(200001)}) {
    StringReader in(data);
    StringWriter out;
    ASSERT_TRUE(decompress(in, out));
    EXPECT_EQ(out.str(), data);
  }
}

TEST(CompressionTest, GzipRoundTrip) {
  const std::string data = sample(1 << 20);
  StringReader in(data);
  StringWriter gz;
  ASSERT_TRUE(gzip_compress(in, gz));
  EXPECT_EQ(detect(gz.str()), Compression::kGzip);
  EXPECT_LT(gz.str().size(), data.size() / 2);
  StringReader back(gz.str());
  StringWriter out;
  auto st = decompress(back, out);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(out.str(), data);

  // Empty input is a valid (tiny) gzip stream.
  StringReader empty("");
  StringWriter empty_gz;
  ASSERT_TRUE(gzip_compress(empty, empty_gz));
  StringReader empty_back(empty_gz.str());
  StringWriter empty_out;
  ASSERT_TRUE(decompress(empty_back, empty_out));
  EXPECT_EQ(empty_out.str(), "");
}

TEST(CompressionTest, GzipWriterStreams) {
  StringWriter gz;
  GzipWriter writer(gz, 9);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(writer.write(sample(1000)));
  ASSERT_TRUE(writer.finish());
  ASSERT_TRUE(writer.finish()) << "finish is idempotent";
  EXPECT_FALSE(writer.write("late"));
  StringReader back(gz.str());
  StringWriter out;
  ASSERT_TRUE(decompress(back, out));
  EXPECT_EQ(out.str().size(), 100000u);
}

TEST(CompressionTest, CorruptStreamsFail) {
  StringWriter gz;
  const std::string data = sample(100000);
  StringReader src(data);
  ASSERT_TRUE(gzip_compress(src, gz));
  std::string corrupt = gz.str();
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() / 2 + 1] ^= 0x55;
  StringReader bad(corrupt);
  StringWriter out;
  auto st = decompress(bad, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);

  std::string cut = gz.str().substr(0, gz.str().size() / 2);
  StringReader truncated(cut);
  StringWriter out2;
  EXPECT_FALSE(decompress(truncated, out2));
}

TEST(CompressionTest, ConcatenatedGzipMembersAreOneStream) {
  std::string joined;
  for (const std::string part : {"first part, ", "second part"}) {
    StringReader in(part);
    StringWriter gz;
    ASSERT_TRUE(gzip_compress(in, gz));
    joined += gz.str();
  }
  StringReader in(joined);
  DecompressReader reader(in);
  std::string out(64, '\0');
  size_t have = 0;
  for (;;) {
    auto n = reader.read(out.data() + have, out.size() - have);
    ASSERT_TRUE(n) << n.error().message;
    if (*n == 0) break;
    have += *n;
  }
  EXPECT_EQ(out.substr(0, have), "first part, second part");
  EXPECT_EQ(reader.compression(), Compression::kGzip);

  // Trailing bytes that are not another member are an error, as with Go's reader.
  std::string trailing = joined + "garbage!";
  StringReader bad(trailing);
  StringWriter sink;
  EXPECT_FALSE(decompress(bad, sink));
}

TEST(CompressionTest, CompressedEmptyStreams) {
  for (auto filter :
       {TarBuilder::Filter::kBzip2, TarBuilder::Filter::kXz, TarBuilder::Filter::kZstd}) {
    auto compressed = compress_with_libarchive("", filter);
    StringReader in(compressed);
    StringWriter out;
    auto st = decompress(in, out);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(out.str(), "");
  }
}

TEST(CompressionTest, ReaderErrorsAreReported) {
  FailingReader in;
  StringWriter out;
  auto st = decompress(in, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("connection reset"), std::string::npos);
}

}  // namespace
}  // namespace berth::core::layer
