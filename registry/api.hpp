// The distribution API: dispatch of /v2 routes to their handlers, and what the handlers share
// (storage, limits, error answers).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

#include "distribution/errors.hpp"
#include "registry/http_exchange.hpp"
#include "registry/routes.hpp"
#include "registry/storage.hpp"

namespace berth::registry {

struct ApiOptions {
  uint64_t max_manifest_bytes = 4 * 1024 * 1024;
  uint64_t max_upload_bytes = 0;  // 0: no limit
  bool read_only = false;
};

namespace auth {
class Authenticator;
}

struct ApiContext {
  Storage& storage;
  ApiOptions options;
  const auth::Authenticator* auth = nullptr;  // null: no authentication
};

class RegistryApi {
 public:
  RegistryApi(Storage& storage, ApiOptions options, const auth::Authenticator* auth = nullptr)
      : context_{storage, options, auth} {}
  Task<Response> handle(Exchange& exchange);

 private:
  ApiContext context_;
};

// {"errors":[...]} with the code's status (or `status` when not 0).
Response error_response(distribution::RegistryErrorCode code, std::string message = {},
                        boost::json::value detail = nullptr, unsigned status = 0);
// 500 with the storage error's message (logged).
Response internal_error(const Error& error);

// The handlers, one file per resource. `route.name` is a valid repository name.
Task<Response> handle_blob(ApiContext& ctx, Exchange& ex, const Route& route);
Task<Response> handle_upload_start(ApiContext& ctx, Exchange& ex, const Route& route);
Task<Response> handle_upload(ApiContext& ctx, Exchange& ex, const Route& route);
Task<Response> handle_manifest(ApiContext& ctx, Exchange& ex, const Route& route);
Task<Response> handle_tags(ApiContext& ctx, Exchange& ex, const Route& route);
Task<Response> handle_catalog(ApiContext& ctx, Exchange& ex);
Task<Response> handle_search(ApiContext& ctx, Exchange& ex);
Task<Response> handle_referrers(ApiContext& ctx, Exchange& ex, const Route& route);

// Pagination shared by tags and catalog: entries after `last` (sorted input), at most `n`
// when given; `more` tells whether entries were left out.
struct Page {
  std::vector<std::string> entries;
  bool more = false;
};
Page paginate(const std::vector<std::string>& sorted, const std::optional<std::string>& last,
              std::optional<size_t> n);
// The n query parameter: nullopt when absent; false in .second when malformed.
std::pair<std::optional<size_t>, bool> page_size(const Exchange& ex);

}  // namespace berth::registry
