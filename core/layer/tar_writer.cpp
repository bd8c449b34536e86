#include "core/layer/tar_writer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace berth::core::layer {
namespace {

constexpr size_t kBlock = 512;

struct Field {
  size_t offset;
  size_t size;
};
constexpr Field kName{0, 100};
constexpr Field kMode{100, 8};
constexpr Field kUid{108, 8};
constexpr Field kGid{116, 8};
constexpr Field kSize{124, 12};
constexpr Field kMtime{136, 12};
constexpr Field kChecksum{148, 8};
constexpr size_t kTypeflag = 156;
constexpr Field kLinkname{157, 100};
constexpr Field kMagic{257, 6};
constexpr Field kVersion{263, 2};
constexpr Field kDevmajor{329, 8};
constexpr Field kDevminor{337, 8};

using Block = std::array<char, kBlock>;

// Largest value an octal field holds (size-1 digits and a NUL).
int64_t octal_max(Field f) { return (int64_t{1} << (3 * (f.size - 1))) - 1; }

bool fits_octal(Field f, int64_t v) { return v >= 0 && v <= octal_max(f); }

void put_octal(Block& b, Field f, int64_t v) {
  if (!fits_octal(f, v)) v = 0;  // the real value travels in a PAX record
  char* p = b.data() + f.offset;
  std::memset(p, '0', f.size - 1);
  p[f.size - 1] = '\0';
  for (size_t i = f.size - 1; i > 0 && v > 0; --i) {
    p[i - 1] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
}

void put_string(Block& b, Field f, std::string_view s) {
  std::memcpy(b.data() + f.offset, s.data(), std::min(s.size(), f.size));
}

bool fits_string(Field f, std::string_view s) {
  return s.size() <= f.size &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > 0 && c < 0x7f; });
}

// "<len> <key>=<value>\n" where <len> counts the whole record, itself included.
void add_record(std::string& out, std::string_view key, std::string_view value) {
  size_t body = 1 + key.size() + 1 + value.size() + 1;  // ' ' key '=' value '\n'
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  out += std::to_string(len);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
}

Block make_block(std::string_view name, char typeflag, std::string_view linkname, int64_t mode,
                 int64_t uid, int64_t gid, int64_t size, int64_t mtime, uint32_t devmajor,
                 uint32_t devminor) {
  Block b{};
  put_string(b, kName, name);
  put_octal(b, kMode, mode);
  put_octal(b, kUid, uid);
  put_octal(b, kGid, gid);
  put_octal(b, kSize, size);
  put_octal(b, kMtime, mtime);
  b[kTypeflag] = typeflag;
  put_string(b, kLinkname, linkname);
  put_string(b, kMagic, std::string_view("ustar\0", 6));
  put_string(b, kVersion, "00");
  put_octal(b, kDevmajor, devmajor);
  put_octal(b, kDevminor, devminor);
  std::memset(b.data() + kChecksum.offset, ' ', kChecksum.size);
  unsigned sum = 0;
  for (char c : b) sum += static_cast<unsigned char>(c);
  // Six octal digits, NUL, space: the form every tar writes.
  Block digits{};
  Field six{kChecksum.offset, 7};
  put_octal(digits, six, sum);
  std::memcpy(b.data() + kChecksum.offset, digits.data() + kChecksum.offset, 7);
  b[kChecksum.offset + 7] = ' ';
  return b;
}

// Go's PAX header name: "<dir>/PaxHeaders.0/<base>", cut to fit.
std::string pax_name(std::string_view name) {
  std::string_view trimmed = name;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
  size_t slash = trimmed.rfind('/');
  std::string dir = slash == std::string_view::npos ? "" : std::string(trimmed.substr(0, slash));
  std::string base(slash == std::string_view::npos ? trimmed : trimmed.substr(slash + 1));
  std::string out = dir.empty() ? "PaxHeaders.0/" + base : dir + "/PaxHeaders.0/" + base;
  out.resize(std::min(out.size(), kName.size));
  for (auto& c : out) {
    if (c <= 0 || c >= 0x7f) c = '_';
  }
  return out;
}

}  // namespace

Status TarWriter::end_member() {
  if (remaining_ != 0) {
    return make_error(ErrorCode::kInternal,
                      "tar: member is " + std::to_string(remaining_) + " bytes short");
  }
  if (padding_ > 0) {
    static const std::string kZeros(kBlock, '\0');
    BERTH_TRY_STATUS(out_.write(std::string_view(kZeros).substr(0, static_cast<size_t>(padding_))));
    padding_ = 0;
  }
  return {};
}

Status TarWriter::add(const TarHeader& h) {
  if (finished_) return make_error(ErrorCode::kFailedPrecondition, "tar: archive is finished");
  BERTH_TRY_STATUS(end_member());
  int64_t size = h.type == TarHeader::Type::kRegular ? h.size : 0;

  std::string records;
  if (!fits_string(kName, h.name)) add_record(records, "path", h.name);
  if (!fits_string(kLinkname, h.linkname)) add_record(records, "linkpath", h.linkname);
  if (!fits_octal(kUid, h.uid)) add_record(records, "uid", std::to_string(h.uid));
  if (!fits_octal(kGid, h.gid)) add_record(records, "gid", std::to_string(h.gid));
  if (!fits_octal(kSize, size)) add_record(records, "size", std::to_string(size));
  if (!fits_octal(kMtime, h.mtime)) add_record(records, "mtime", std::to_string(h.mtime));
  for (const auto& [key, value] : h.xattrs) add_record(records, "SCHILY.xattr." + key, value);

  if (!records.empty()) {
    auto pax =
        make_block(pax_name(h.name), 'x', "", 0644, 0, 0, static_cast<int64_t>(records.size()),
                   fits_octal(kMtime, h.mtime) ? h.mtime : 0, 0, 0);
    BERTH_TRY_STATUS(out_.write(std::string_view(pax.data(), pax.size())));
    BERTH_TRY_STATUS(out_.write(records));
    padding_ = static_cast<int64_t>((kBlock - records.size() % kBlock) % kBlock);
    BERTH_TRY_STATUS(end_member());
  }
  auto block = make_block(h.name, static_cast<char>(h.type), h.linkname, h.mode & 07777777, h.uid,
                          h.gid, size, h.mtime, h.devmajor, h.devminor);
  BERTH_TRY_STATUS(out_.write(std::string_view(block.data(), block.size())));
  remaining_ = size;
  padding_ = static_cast<int64_t>((kBlock - static_cast<size_t>(size) % kBlock) % kBlock);
  return {};
}

Status TarWriter::write_data(std::string_view data) {
  if (static_cast<int64_t>(data.size()) > remaining_) {
    return make_error(ErrorCode::kInternal, "tar: member data longer than its header says");
  }
  BERTH_TRY_STATUS(out_.write(data));
  remaining_ -= static_cast<int64_t>(data.size());
  return {};
}

Status TarWriter::finish() {
  if (finished_) return {};
  BERTH_TRY_STATUS(end_member());
  finished_ = true;
  static const std::string kEnd(2 * kBlock, '\0');
  return out_.write(kEnd);
}

}  // namespace berth::core::layer
