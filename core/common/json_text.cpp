#include "core/common/json_text.hpp"

#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstring>

namespace berth::json_text {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid. Sets
// `maximal` to how many bytes form the maximal invalid subpart to replace by one U+FFFD.
size_t valid_sequence(std::string_view text, size_t i, size_t& maximal) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  maximal = 1;
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;       // no overlong forms
    if (b0 == 0xED) hi = 0x9F;       // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;       // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;       // nothing past U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k < need; ++k) {
    if (i + k >= text.size()) return 0;
    unsigned char b = byte(i + k);
    bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return 0;
    maximal = k + 1;
  }
  return need;
}

}  // namespace

std::string to_valid_utf8(std::string_view text) {
  size_t i = 0;
  // Fast path: ASCII and valid text are the common case; ASCII is skipped eight bytes at a time.
  for (size_t maximal = 0; i < text.size();) {
    while (i + 8 <= text.size()) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= text.size()) break;
    size_t n = valid_sequence(text, i, maximal);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return std::string(text);
  std::string out(text.substr(0, i));
  out.reserve(text.size() + 16);
  while (i < text.size()) {
    size_t maximal = 0;
    size_t n = valid_sequence(text, i, maximal);
    if (n == 0) {
      out += kReplacement;
      i += maximal;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string serialize(const boost::json::value& value) {
  return to_valid_utf8(boost::json::serialize(value));
}

std::string shorten_for_message(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return to_valid_utf8(text);
  size_t head = max_bytes * 3 / 4, tail = max_bytes / 4;
  // Cut on sequence boundaries so the halves stay valid where they were.
  auto boundary = [&](size_t pos) {
    while (pos > 0 && pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
    return pos;
  };
  size_t h = boundary(head);
  size_t t = boundary(text.size() - tail);
  return to_valid_utf8(text.substr(0, h)) + "…(" + std::to_string(t - h) + " bytes left out)…" +
         to_valid_utf8(text.substr(t));
}

}  // namespace berth::json_text
