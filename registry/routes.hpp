// The /v2 URL space, and /v1/search. Repository names contain slashes, so a path is read from its end:
// .../manifests/<ref>, .../blobs/uploads/[<id>], .../blobs/<digest>, .../tags/list,
// .../referrers/<digest>; what precedes is the name.
#pragma once

#include <string>
#include <string_view>

namespace berth::registry {

enum class RouteKind {
  kBase,         // /v2/
  kCatalog,      // /v2/_catalog
  kTags,         // /v2/<name>/tags/list
  kManifest,     // /v2/<name>/manifests/<reference>
  kBlob,         // /v2/<name>/blobs/<digest>
  kUploadStart,  // /v2/<name>/blobs/uploads/
  kUpload,       // /v2/<name>/blobs/uploads/<id>
  kReferrers,    // /v2/<name>/referrers/<digest>
  kSearch,       // /v1/search (Docker Hub's search API, which docker search speaks)
  kNotFound,
};

struct Route {
  RouteKind kind = RouteKind::kNotFound;
  std::string name;       // repository name (not yet validated)
  std::string reference;  // tag or digest, digest, or upload id
};

Route match_route(std::string_view path);

// A short label for metrics: "manifest", "blob", ...
std::string_view route_label(RouteKind kind);

}  // namespace berth::registry
