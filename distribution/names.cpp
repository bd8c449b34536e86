#include "distribution/names.hpp"

#include "core/image/reference.hpp"

namespace berth::distribution {

bool is_valid_repository_name(std::string_view name) {
  constexpr size_t kNameLengthMax = 255;
  return !name.empty() && name.size() <= kNameLengthMax && core::image::is_valid_path(name);
}

bool is_valid_tag(std::string_view tag) { return core::image::is_valid_tag(tag); }

Result<ManifestReference> parse_manifest_reference(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto digest = parse_digest(text);
    if (!digest) return std::move(digest).error();
    return ManifestReference(std::move(*digest));
  }
  if (!is_valid_tag(text)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid tag \"" + std::string(text) +
                          "\": a tag is 1 to 128 of [A-Za-z0-9_.-] and cannot start with . or -");
  }
  return ManifestReference(std::string(text));
}

}  // namespace berth::distribution
