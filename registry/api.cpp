#include "registry/api.hpp"

#include <algorithm>

#include "core/common/logging.hpp"
#include "distribution/names.hpp"
#include "registry/auth/authenticator.hpp"

namespace berth::registry {
using distribution::RegistryErrorCode;

Response error_response(RegistryErrorCode code, std::string message, boost::json::value detail,
                        unsigned status) {
  Response res;
  res.status = status ? status : distribution::error_http_status(code);
  res.body = distribution::error_body({code, std::move(message), std::move(detail)});
  res.header("Content-Type", "application/json");
  return res;
}

Response internal_error(const Error& error) {
  logging::get("registry")->error("storage: {}", error.message);
  Response res;
  res.status = 500;
  res.body = distribution::error_body(
      {RegistryErrorCode::kUnknown, "internal error: " + error.message, nullptr});
  res.header("Content-Type", "application/json");
  return res;
}

Page paginate(const std::vector<std::string>& sorted, const std::optional<std::string>& last,
              std::optional<size_t> n) {
  Page page;
  auto begin = sorted.begin();
  if (last) begin = std::upper_bound(sorted.begin(), sorted.end(), *last);
  auto end = sorted.end();
  if (n && static_cast<size_t>(end - begin) > *n) {
    end = begin + static_cast<std::ptrdiff_t>(*n);
    page.more = true;
  }
  page.entries.assign(begin, end);
  return page;
}

std::pair<std::optional<size_t>, bool> page_size(const Exchange& ex) {
  auto text = ex.query_value("n");
  if (!text || text->empty()) return {std::nullopt, true};
  if (!std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      text->size() > 9) {
    return {std::nullopt, false};
  }
  return {static_cast<size_t>(std::stoul(*text)), true};
}

namespace {

// What the route asks of the client: an action on the repository (and pull on the source
// repository of a mount).
std::vector<auth::Need> needs_of(const Route& route, const Exchange& ex) {
  const std::string& m = ex.method;
  bool reads = m == "GET" || m == "HEAD";
  switch (route.kind) {
    case RouteKind::kBase: return {};
    case RouteKind::kCatalog:
    case RouteKind::kSearch: return {auth::Need{{}, {}, true}};
    case RouteKind::kTags:
    case RouteKind::kReferrers: return {{route.name, "pull"}};
    case RouteKind::kManifest:
    case RouteKind::kBlob:
      if (m == "DELETE") return {{route.name, "delete"}};
      return {{route.name, reads ? "pull" : "push"}};
    case RouteKind::kUploadStart: {
      std::vector<auth::Need> needs{{route.name, "push"}};
      if (auto from = ex.query_value("from"); from && ex.query_value("mount")) {
        needs.push_back({*from, "pull"});
      }
      return needs;
    }
    case RouteKind::kUpload: return {{route.name, "push"}};
    case RouteKind::kNotFound: return {};
  }
  return {};
}

}  // namespace

Task<Response> RegistryApi::handle(Exchange& ex) {
  Route route = match_route(ex.path);
  auto& method = ex.method;
  bool reads = method == "GET" || method == "HEAD";
  if (route.kind == RouteKind::kNotFound) {
    co_return error_response(RegistryErrorCode::kUnsupported,
                             "no such endpoint: " + ex.path, nullptr, 404);
  }
  if (context_.auth) {
    if (auto refused = context_.auth->check(ex, needs_of(route, ex))) co_return std::move(*refused);
  }
  if (route.kind == RouteKind::kBase) {
    if (!reads) co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
    Response res;
    res.body = "{}";
    res.header("Content-Type", "application/json");
    co_return res;
  }
  if (route.kind == RouteKind::kCatalog) {
    if (!reads) co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
    co_return co_await handle_catalog(context_, ex);
  }
  if (route.kind == RouteKind::kSearch) {
    if (!reads) co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
    co_return co_await handle_search(context_, ex);
  }
  if (!distribution::is_valid_repository_name(route.name)) {
    co_return error_response(RegistryErrorCode::kNameInvalid,
                             "invalid repository name \"" + route.name + "\"",
                             boost::json::object{{"name", route.name}});
  }
  if (!reads && context_.options.read_only) {
    co_return error_response(RegistryErrorCode::kUnsupported,
                             "the registry is in read-only mode", nullptr, 405);
  }
  switch (route.kind) {
    case RouteKind::kTags:
      if (!reads) break;
      co_return co_await handle_tags(context_, ex, route);
    case RouteKind::kReferrers:
      if (!reads) break;
      co_return co_await handle_referrers(context_, ex, route);
    case RouteKind::kManifest: co_return co_await handle_manifest(context_, ex, route);
    case RouteKind::kBlob: co_return co_await handle_blob(context_, ex, route);
    case RouteKind::kUploadStart: co_return co_await handle_upload_start(context_, ex, route);
    case RouteKind::kUpload: co_return co_await handle_upload(context_, ex, route);
    default: break;
  }
  co_return error_response(RegistryErrorCode::kUnsupported,
                           method + " is not supported on " + ex.path, nullptr, 405);
}

}  // namespace berth::registry
