// Decides, for each request, who the client is and whether it may do what the route needs:
// nothing (no auth configured), htpasswd Basic auth, or Docker token auth with the registry's
// own /token endpoint. Answers 401 with the WWW-Authenticate challenge Docker clients expect,
// or 403 DENIED when an authenticated user lacks the right.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "registry/auth/access.hpp"
#include "registry/auth/htpasswd.hpp"
#include "registry/auth/token.hpp"
#include "registry/http_exchange.hpp"

namespace berth::registry::auth {

enum class AuthMode { kNone, kBasic, kToken };

struct AuthSettings {
  AuthMode mode = AuthMode::kNone;
  std::string realm = "berth-registry";  // Basic realm; for tokens, the /token URL ("" = from Host)
  std::string htpasswd_path;
  bool tls = false;  // the default token realm is https:// then
  std::string service = "berth-registry";
  std::string issuer = "berth-registry";
  std::string secret;  // token signing key ("" = random at each start)
  std::chrono::seconds token_ttl{300};
  AccessRules rules;
};

// What a request needs: an action on a repository ("pull", "push", "delete"), or the catalog.
struct Need {
  std::string repository;  // empty with catalog
  std::string action;
  bool catalog = false;
};

class Authenticator {
 public:
  // Loads the htpasswd file; errors name the setting.
  static Result<std::unique_ptr<Authenticator>> create(AuthSettings settings);

  // nullopt: allowed (ex.user is set); else the 401/403 answer.
  std::optional<Response> check(Exchange& ex, const std::vector<Need>& needs) const;
  // Which repositories a catalog shows to `user`.
  bool may_pull(const std::string& user, const std::string& repository) const;
  // GET /token?service=&scope=...: a signed bearer token for the scopes granted.
  Response issue_token(Exchange& ex) const;
  AuthMode mode() const { return settings_.mode; }

 private:
  explicit Authenticator(AuthSettings settings, Htpasswd users);
  // The Basic credentials of the request: nullopt when absent, "" user when wrong.
  std::optional<std::string> basic_user(const Exchange& ex) const;
  Response challenge(const Exchange& ex, const std::vector<Need>& needs,
                     const std::string& error) const;

  AuthSettings settings_;
  Htpasswd users_;
  std::unique_ptr<TokenSigner> signer_;
};

}  // namespace berth::registry::auth
