// Content discovery: GET /v2/<name>/tags/list and /v2/_catalog (lexical order, ?n= and
// ?last= pagination, a Link header to the next page), and the referrers API.
#include "distribution/media_types.hpp"
#include "registry/api.hpp"
#include "registry/auth/authenticator.hpp"
#include "registry/url.hpp"

#include "core/common/json_text.hpp"

namespace berth::registry {
using distribution::RegistryErrorCode;
namespace json = boost::json;

namespace {

Response paged_answer(const std::string& key, const std::string& base_path, Page page,
                      std::optional<size_t> n, json::object body) {
  json::array items;
  for (auto& entry : page.entries) items.emplace_back(entry);
  body[key] = std::move(items);
  Response res;
  res.header("Content-Type", "application/json");
  if (page.more && n && !page.entries.empty()) {
    res.header("Link", "<" + base_path + "?n=" + std::to_string(*n) +
                           "&last=" + url::encode_component(page.entries.back()) +
                           ">; rel=\"next\"");
  }
  res.body = json_text::serialize(body);
  return res;
}

Response bad_page_size() {
  return error_response(RegistryErrorCode::kUnsupported,
                        "the n parameter must be a non-negative integer", nullptr, 400);
}

}  // namespace

Task<Response> handle_tags(ApiContext& ctx, Exchange& ex, const Route& route) {
  auto tags = ctx.storage.list_tags(route.name);
  if (!tags) {
    co_return error_response(RegistryErrorCode::kNameUnknown,
                             "repository " + route.name + " is unknown",
                             json::object{{"name", route.name}});
  }
  auto [n, valid] = page_size(ex);
  if (!valid) co_return bad_page_size();
  Page page = paginate(*tags, ex.query_value("last"), n);
  co_return paged_answer("tags", "/v2/" + route.name + "/tags/list", std::move(page), n,
                         json::object{{"name", route.name}});
}

Task<Response> handle_catalog(ApiContext& ctx, Exchange& ex) {
  auto repositories = ctx.storage.list_repositories();
  if (!repositories) co_return internal_error(repositories.error());
  if (ctx.auth) {
    std::erase_if(*repositories,
                  [&](const std::string& repo) { return !ctx.auth->may_pull(ex.user, repo); });
  }
  auto [n, valid] = page_size(ex);
  if (!valid) co_return bad_page_size();
  Page page = paginate(*repositories, ex.query_value("last"), n);
  co_return paged_answer("repositories", "/v2/_catalog", std::move(page), n, json::object{});
}

Task<Response> handle_referrers(ApiContext& ctx, Exchange& ex, const Route& route) {
  auto subject = distribution::parse_digest(route.reference);
  if (!subject) {
    co_return error_response(RegistryErrorCode::kDigestInvalid, subject.error().message);
  }
  auto referrers = ctx.storage.list_referrers(route.name, *subject);
  if (!referrers) co_return internal_error(referrers.error());
  auto artifact_type = ex.query_value("artifactType");
  json::array manifests;
  for (auto& descriptor : *referrers) {
    if (artifact_type) {
      const json::value* type = descriptor.if_contains("artifactType");
      if (!type || !type->is_string() || type->get_string() != *artifact_type) continue;
    }
    manifests.emplace_back(std::move(descriptor));
  }
  json::object body{{"schemaVersion", 2},
                    {"mediaType", distribution::media_type::kOciIndex},
                    {"manifests", std::move(manifests)}};
  Response res;
  res.header("Content-Type", std::string(distribution::media_type::kOciIndex));
  if (artifact_type) res.header("OCI-Filters-Applied", "artifactType");
  res.body = json_text::serialize(body);
  co_return res;
}

}  // namespace berth::registry
