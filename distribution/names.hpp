// The distribution spec's name grammar: repository names (the reference grammar's path, at
// most 255 characters), tags, and a manifest reference that is a tag or a digest.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "core/common/result.hpp"
#include "distribution/digest.hpp"

namespace berth::distribution {

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*, at most 255 bytes.
bool is_valid_repository_name(std::string_view name);

// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
bool is_valid_tag(std::string_view tag);

// A manifest reference in a URL: a digest when it has a ':' (tags cannot), else a tag.
using ManifestReference = std::variant<std::string, Digest>;
Result<ManifestReference> parse_manifest_reference(std::string_view text);

}  // namespace berth::distribution
