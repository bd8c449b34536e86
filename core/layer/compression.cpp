#include "core/layer/compression.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <algorithm>
#include <string>

#include "core/layer/archive_source.hpp"

namespace berth::core::layer {
namespace {

constexpr size_t kChunk = 1 << 17;

bool starts_with(std::string_view data, std::string_view magic) {
  return data.size() >= magic.size() && data.substr(0, magic.size()) == magic;
}

Status copy(Reader& in, Writer& out) {
  std::string buffer(kChunk, '\0');
  for (;;) {
    auto n = in.read(buffer.data(), buffer.size());
    if (!n) return std::move(n).error();
    if (*n == 0) return {};
    BERTH_TRY_STATUS(out.write(std::string_view(buffer.data(), *n)));
  }
}

}  // namespace

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kXz:
      return "xz";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

Compression detect(std::string_view first_bytes) {
  using namespace std::string_view_literals;
  if (starts_with(first_bytes, "\x1f\x8b\x08"sv)) return Compression::kGzip;
  if (starts_with(first_bytes, "BZh"sv)) return Compression::kBzip2;
  if (starts_with(first_bytes, "\xfd\x37\x7a\x58\x5a\x00"sv)) return Compression::kXz;
  if (starts_with(first_bytes, "\x28\xb5\x2f\xfd"sv)) return Compression::kZstd;
  return Compression::kNone;
}

// ---- DecompressReader -------------------------------------------------------------------------

namespace {

// gzip through zlib: CRC-32 and ISIZE are verified at the end of every member.
class GunzipState {
 public:
  GunzipState(Reader& in, std::string prefix) : in_(in), input_(std::move(prefix)) {
    ok_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
    zs_.next_in = reinterpret_cast<Bytef*>(input_.data());
    zs_.avail_in = static_cast<uInt>(input_.size());
  }
  ~GunzipState() {
    if (ok_) inflateEnd(&zs_);
  }
  GunzipState(const GunzipState&) = delete;
  GunzipState& operator=(const GunzipState&) = delete;

  Result<size_t> read(char* buffer, size_t capacity) {
    if (!ok_) return make_error(ErrorCode::kInternal, "gzip: cannot initialise zlib");
    if (done_ || capacity == 0) return size_t{0};
    zs_.next_out = reinterpret_cast<Bytef*>(buffer);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(capacity, 1u << 30));
    for (;;) {
      if (zs_.avail_in == 0 && !eof_) BERTH_TRY_STATUS(refill());
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t produced = capacity - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        // Another member may follow (pigz, concatenated streams).
        if (zs_.avail_in == 0 && !eof_) BERTH_TRY_STATUS(refill());
        if (zs_.avail_in == 0) {
          done_ = true;
          return produced;
        }
        inflateReset(&zs_);
        if (produced > 0) return produced;
        continue;
      }
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR || rc == Z_MEM_ERROR) {
        return make_error(ErrorCode::kInvalidArgument,
                          std::string("gzip: ") + (zs_.msg != nullptr ? zs_.msg : "corrupt data"));
      }
      if (produced > 0) return produced;
      if (zs_.avail_in == 0 && eof_) {
        return make_error(ErrorCode::kInvalidArgument, "gzip: unexpected end of stream");
      }
    }
  }

 private:
  Status refill() {
    input_.resize(kChunk);
    auto n = in_.read(input_.data(), input_.size());
    if (!n) return std::move(n).error();
    if (*n == 0) eof_ = true;
    zs_.next_in = reinterpret_cast<Bytef*>(input_.data());
    zs_.avail_in = static_cast<uInt>(*n);
    return {};
  }

  Reader& in_;
  std::string input_;
  z_stream zs_{};
  bool ok_ = false;
  bool eof_ = false;
  bool done_ = false;
};

// bzip2, xz and zstd through libarchive's filters and its "raw" format.
class LibarchiveState {
 public:
  LibarchiveState(Reader& in, std::string prefix, Compression kind)
      : a_(archive_read_new()), source_(in, std::move(prefix)), kind_(kind) {}

  Result<size_t> read(char* buffer, size_t capacity) {
    if (done_) return size_t{0};
    if (!opened_) {
      opened_ = true;
      archive_read_support_filter_all(a_.get());
      archive_read_support_format_raw(a_.get());
      archive_read_support_format_empty(a_.get());  // raw does not bid on empty content
      archive_entry* entry = nullptr;
      if (source_.open(a_.get()) != ARCHIVE_OK) return failure();
      int r = archive_read_next_header(a_.get(), &entry);
      if (r == ARCHIVE_EOF) {  // nothing compressed at all
        done_ = true;
        return size_t{0};
      }
      if (r != ARCHIVE_OK) return failure();
    }
    la_ssize_t n = archive_read_data(a_.get(), buffer, capacity);
    if (n < 0) return failure();
    if (n == 0) done_ = true;
    return static_cast<size_t>(n);
  }

 private:
  Error failure() {
    if (source_.error()) return *source_.error();
    const char* msg = archive_error_string(a_.get());
    return make_error(ErrorCode::kInvalidArgument, std::string(compression_name(kind_)) + ": " +
                                                       (msg != nullptr ? msg : "corrupt data"));
  }

  ArchivePtr a_;
  ArchiveSource source_;
  Compression kind_;
  bool opened_ = false;
  bool done_ = false;
};

}  // namespace

struct DecompressReader::Impl {
  Reader& in;
  bool sniffed = false;
  Compression kind = Compression::kNone;
  std::string prefix;  // sniffed bytes not yet handed out (uncompressed streams)
  std::unique_ptr<GunzipState> gunzip;
  std::unique_ptr<LibarchiveState> other;

  explicit Impl(Reader& r) : in(r) {}

  Status sniff() {
    sniffed = true;
    // Enough bytes for the longest magic; a reader may return fewer per call.
    std::string head(kChunk, '\0');
    size_t have = 0;
    while (have < 6) {
      auto n = in.read(head.data() + have, head.size() - have);
      if (!n) return std::move(n).error();
      if (*n == 0) break;
      have += *n;
    }
    head.resize(have);
    kind = detect(head);
    switch (kind) {
      case Compression::kNone:
        prefix = std::move(head);
        break;
      case Compression::kGzip:
        gunzip = std::make_unique<GunzipState>(in, std::move(head));
        break;
      default:
        other = std::make_unique<LibarchiveState>(in, std::move(head), kind);
        break;
    }
    return {};
  }
};

DecompressReader::DecompressReader(Reader& in) : impl_(std::make_unique<Impl>(in)) {}
DecompressReader::~DecompressReader() = default;

Compression DecompressReader::compression() const { return impl_->kind; }

Result<size_t> DecompressReader::read(char* buffer, size_t capacity) {
  if (!impl_->sniffed) BERTH_TRY_STATUS(impl_->sniff());
  if (impl_->gunzip) return impl_->gunzip->read(buffer, capacity);
  if (impl_->other) return impl_->other->read(buffer, capacity);
  if (!impl_->prefix.empty()) {
    size_t n = std::min(capacity, impl_->prefix.size());
    impl_->prefix.copy(buffer, n);
    impl_->prefix.erase(0, n);
    return n;
  }
  return impl_->in.read(buffer, capacity);
}

Status decompress(Reader& in, Writer& out) {
  DecompressReader reader(in);
  if (auto st = copy(reader, out); !st) return std::move(st).error().wrap("decompress");
  return {};
}

// ---- GzipWriter -------------------------------------------------------------------------------

struct GzipWriter::Impl {
  Writer& out;
  z_stream zs{};
  bool initialised = false;
  bool finished = false;
  std::string buffer = std::string(kChunk, '\0');

  explicit Impl(Writer& o) : out(o) {}

  // Runs deflate until it has consumed the input (or, with Z_FINISH, ended the stream).
  Status pump(int flush) {
    for (;;) {
      zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
      zs.avail_out = static_cast<uInt>(buffer.size());
      int rc = deflate(&zs, flush);
      if (rc == Z_STREAM_ERROR) return make_error(ErrorCode::kInternal, "gzip: deflate failed");
      size_t produced = buffer.size() - zs.avail_out;
      if (produced > 0) BERTH_TRY_STATUS(out.write(std::string_view(buffer.data(), produced)));
      if (flush == Z_FINISH ? rc == Z_STREAM_END : zs.avail_in == 0 && zs.avail_out != 0) {
        return {};
      }
    }
  }
};

GzipWriter::GzipWriter(Writer& out, int level) : impl_(std::make_unique<Impl>(out)) {
  // windowBits 15 + 16: a gzip wrapper rather than zlib's.
  impl_->initialised =
      deflateInit2(&impl_->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipWriter::~GzipWriter() {
  if (impl_->initialised) deflateEnd(&impl_->zs);
}

Status GzipWriter::write(std::string_view data) {
  if (!impl_->initialised) return make_error(ErrorCode::kInternal, "gzip: cannot initialise zlib");
  if (impl_->finished) return make_error(ErrorCode::kFailedPrecondition, "gzip: stream finished");
  while (!data.empty()) {
    // avail_in is 32-bit: feed huge buffers in slices.
    size_t slice = std::min<size_t>(data.size(), 1u << 30);
    impl_->zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    impl_->zs.avail_in = static_cast<uInt>(slice);
    BERTH_TRY_STATUS(impl_->pump(Z_NO_FLUSH));
    data.remove_prefix(slice);
  }
  return {};
}

Status GzipWriter::finish() {
  if (!impl_->initialised) return make_error(ErrorCode::kInternal, "gzip: cannot initialise zlib");
  if (impl_->finished) return {};
  impl_->finished = true;
  impl_->zs.next_in = nullptr;
  impl_->zs.avail_in = 0;
  return impl_->pump(Z_FINISH);
}

Status gzip_compress(Reader& in, Writer& out, int level) {
  GzipWriter gz(out, level);
  if (auto st = copy(in, gz); !st) return std::move(st).error().wrap("gzip");
  return gz.finish();
}

}  // namespace berth::core::layer
