// Content discovery: GET /v2/<name>/tags/list and /v2/_catalog (lexical order, ?n= and
// ?last= pagination, a Link header to the next page), the referrers API, and GET /v1/search
// (docker search: the repositories whose name holds the term, among those the catalog shows).
#include "distribution/media_types.hpp"
#include "registry/api.hpp"
#include "registry/auth/authenticator.hpp"
#include "registry/url.hpp"

#include <algorithm>
#include <cctype>

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

Task<Response> handle_search(ApiContext& ctx, Exchange& ex) {
  std::string term = ex.query_value("q").value_or("");
  std::string wanted = term;
  std::transform(wanted.begin(), wanted.end(), wanted.begin(), [](unsigned char c) { return std::tolower(c); });
  auto [n, valid] = page_size(ex);
  if (!valid) co_return bad_page_size();
  size_t per_page = std::clamp<size_t>(n.value_or(25), 1, 100);
  size_t page = 1;
  if (auto p = ex.query_value("page"); p && !p->empty()) {
    if (p->size() > 9 || !std::all_of(p->begin(), p->end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(*p) == 0) {
      co_return error_response(RegistryErrorCode::kUnsupported, "the page parameter must be a positive integer",
                               nullptr, 400);
    }
    page = std::stoul(*p);
  }
  auto repositories = ctx.storage.list_repositories();
  if (!repositories) co_return internal_error(repositories.error());
  std::vector<std::string> matches;
  for (auto& repo : *repositories) {
    if (ctx.auth && !ctx.auth->may_pull(ex.user, repo)) continue;
    if (repo.find(wanted) != std::string::npos) matches.push_back(std::move(repo));
  }
  json::array results;
  for (size_t i = (page - 1) * per_page; i < matches.size() && i < page * per_page; ++i) {
    // A registry keeps no descriptions, stars or official marks: what Docker Hub would add.
    results.emplace_back(json::object{{"name", matches[i]},
                                      {"description", ""},
                                      {"star_count", 0},
                                      {"is_official", false},
                                      {"is_automated", false}});
  }
  json::object body{{"num_pages", (matches.size() + per_page - 1) / per_page},
                    {"num_results", matches.size()},
                    {"page_size", per_page},
                    {"page", page},
                    {"query", term},
                    {"results", std::move(results)}};
  Response res;
  res.header("Content-Type", "application/json");
  res.body = json_text::serialize(body);
  co_return res;
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
