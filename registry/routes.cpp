#include "registry/routes.hpp"

#include <vector>

namespace berth::registry {
namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string join(const std::vector<std::string_view>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

}  // namespace

Route match_route(std::string_view path) {
  if (path == "/v2" || path == "/v2/") return {RouteKind::kBase, {}, {}};
  if (path == "/v1/search") return {RouteKind::kSearch, {}, {}};
  if (!path.starts_with("/v2/")) return {};
  path.remove_prefix(4);
  if (path == "_catalog") return {RouteKind::kCatalog, {}, {}};
  auto parts = split(path);
  size_t n = parts.size();
  if (n >= 3 && parts[n - 2] == "tags" && parts[n - 1] == "list") {
    return {RouteKind::kTags, join(parts, n - 2), {}};
  }
  if (n >= 4 && parts[n - 3] == "blobs" && parts[n - 2] == "uploads") {
    if (parts[n - 1].empty()) return {RouteKind::kUploadStart, join(parts, n - 3), {}};
    return {RouteKind::kUpload, join(parts, n - 3), std::string(parts[n - 1])};
  }
  if (n >= 3 && parts[n - 2] == "blobs" && parts[n - 1] == "uploads") {
    return {RouteKind::kUploadStart, join(parts, n - 2), {}};
  }
  if (n >= 3 && !parts[n - 1].empty()) {
    std::string name = join(parts, n - 2);
    std::string reference(parts[n - 1]);
    if (parts[n - 2] == "manifests") return {RouteKind::kManifest, name, reference};
    if (parts[n - 2] == "blobs") return {RouteKind::kBlob, name, reference};
    if (parts[n - 2] == "referrers") return {RouteKind::kReferrers, name, reference};
  }
  return {};
}

std::string_view route_label(RouteKind kind) {
  switch (kind) {
    case RouteKind::kBase: return "base";
    case RouteKind::kCatalog: return "catalog";
    case RouteKind::kTags: return "tags";
    case RouteKind::kManifest: return "manifest";
    case RouteKind::kBlob: return "blob";
    case RouteKind::kUploadStart: return "upload_start";
    case RouteKind::kUpload: return "upload";
    case RouteKind::kReferrers: return "referrers";
    case RouteKind::kSearch: return "search";
    case RouteKind::kNotFound: return "other";
  }
  return "other";
}

}  // namespace berth::registry
