// The image reference grammar: never crashes, and what it accepts round-trips (parsing the
// normalised string gives the same reference; so does the familiar form, except where Docker's
// own familiar form is ambiguous: a docker.io path whose first component looks like a domain,
// "docker.io/a.b/c" shown as "a.b/c", or a library name of 64 hex digits).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/image/reference.hpp"

using berth::core::image::parse_normalized;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ref = parse_normalized(text);
  if (!ref) return 0;
  auto again = parse_normalized(ref->string());
  if (!again || !(*again == *ref)) __builtin_trap();
  std::string first = ref->path.substr(0, ref->path.find('/'));
  bool ambiguous = ref->domain == "docker.io" && ref->path.find('/') != std::string::npos &&
                   (first.find_first_of(".:") != std::string::npos || first == "localhost");
  // "library/<64 hex>" parses, but its familiar form is the bare hex string, which Docker (and
  // berth) refuse as a name because it reads as an image id.
  std::string familiar_text = ref->familiar_string();
  ambiguous = ambiguous || (familiar_text.size() == 64 &&
                            familiar_text.find_first_not_of("0123456789abcdef") == std::string::npos);
  auto familiar = parse_normalized(familiar_text);
  if (!ambiguous && (!familiar || !(*familiar == *ref))) __builtin_trap();
  return 0;
}
