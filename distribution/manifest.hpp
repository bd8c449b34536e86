// Descriptors, image manifests and indexes (OCI and Docker schema 2), parsed as far as a
// registry needs: what they reference, their subject, and what the referrers API lists.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"
#include "distribution/digest.hpp"

namespace berth::distribution {

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::string artifact_type;        // empty when absent
  boost::json::object annotations;  // empty when absent
};

// Parses a descriptor object; errors name the field at fault.
Result<Descriptor> parse_descriptor(const boost::json::value& value);
// {"mediaType","digest","size"[,"artifactType"][,"annotations"]}
boost::json::object descriptor_json(const Descriptor& descriptor);

struct Manifest {
  std::string media_type;  // the resolved media type (Content-Type, else the body's)
  std::optional<Descriptor> config;  // image manifests
  std::vector<Descriptor> layers;    // image manifests
  std::vector<Descriptor> manifests;  // indexes
  std::optional<Descriptor> subject;
  std::string artifact_type;  // the body's artifactType field; empty when absent
  boost::json::object annotations;

  bool is_index() const;
  // What the referrers API lists as this manifest's artifactType: its artifactType field, else
  // (image manifests) its config's media type.
  std::string referrer_artifact_type() const;
  // The blobs an image manifest needs in the repository (config and distributable layers).
  std::vector<Descriptor> required_blobs() const;
};

// Parses a manifest pushed with `content_type` (may be empty: the body's mediaType decides).
// Errors are kInvalidArgument with the reason (MANIFEST_INVALID for a registry).
Result<Manifest> parse_manifest(std::string_view body, std::string_view content_type);

// The media type a stored manifest is served with when its body names none: the type it
// was pushed with is stored alongside, this is the fallback.
std::string sniff_manifest_media_type(std::string_view body);

}  // namespace berth::distribution
