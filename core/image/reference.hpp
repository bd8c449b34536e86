// Docker image references ("busybox", "cap/bb:v1", "127.0.0.1:5000/x@sha256:..."), parsed and
// normalised with the rules of distribution/reference (ParseNormalizedNamed): a missing domain is
// docker.io, docker.io names of one component get "library/", index.docker.io is docker.io.
#pragma once

#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::core::image {

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // "latest"; empty when absent
  std::string digest;  // "sha256:<64 hex>"; empty when absent

  // "docker.io/library/busybox"
  std::string name() const;
  // The short form the docker CLI prints: "busybox", "cap/bb", "127.0.0.1:5000/cap/bb".
  std::string familiar_name() const;
  // name() plus ":tag" and/or "@digest".
  std::string string() const;
  // familiar_name() plus ":tag" and/or "@digest": "busybox:latest", "cap/bb@sha256:...".
  std::string familiar_string() const;

  bool operator==(const Reference&) const = default;
};

// Parses and normalises `text`; no default tag is added. Errors are kInvalidArgument with
// Docker's wording ("invalid reference format", "... repository name must be lowercase").
Result<Reference> parse_normalized(std::string_view text);

// As parse_normalized, and adds the tag "latest" when the reference has neither tag nor digest.
Result<Reference> parse_normalized_tagged(std::string_view text);

// The repository path grammar alone ("library/busybox", components of [a-z0-9] joined by the
// separators "." "_" "__" "-+", joined by "/"), with no domain: what a registry calls a name.
bool is_valid_path(std::string_view path);

// tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool is_valid_tag(std::string_view tag);

// A full image id: 64 lowercase hex characters, optionally prefixed by "sha256:".
bool is_full_id(std::string_view text);

// A (possibly full) image id prefix: 1 to 64 lowercase hex characters, optionally prefixed by
// "sha256:". Short names such as "abc" are valid references too; the caller decides precedence.
bool is_id_prefix(std::string_view text);

}  // namespace berth::core::image
