// Bearer tokens the registry issues (/token) and verifies itself: JWTs signed with HMAC-SHA256
// (the secret never leaves the process, or the file it is read from), carrying the Docker
// token claims: iss, sub, aud (the service), exp, nbf, iat, and "access":
// [{"type":"repository","name":"team/app","actions":["pull","push"]}].
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"

namespace berth::registry::auth {

struct Grant {
  std::string type;  // "repository" or "registry" (catalog)
  std::string name;
  std::set<std::string> actions;
};

// "repository:team/app:pull,push" → Grant; nullopt when malformed.
std::optional<Grant> parse_scope(std::string_view scope);
std::string scope_string(const Grant& grant);

struct TokenClaims {
  std::string subject;  // "" for an anonymous token
  std::vector<Grant> access;
  int64_t expires_at = 0;
};

class TokenSigner {
 public:
  TokenSigner(std::string secret, std::string issuer, std::string service)
      : secret_(std::move(secret)), issuer_(std::move(issuer)), service_(std::move(service)) {}

  std::string issue(const std::string& subject, const std::vector<Grant>& access,
                    std::chrono::seconds ttl, int64_t now_unix) const;
  // kPermissionDenied with the reason (bad signature, expired, other audience).
  Result<TokenClaims> verify(std::string_view token, int64_t now_unix) const;
  const std::string& service() const { return service_; }

 private:
  std::string secret_;
  std::string issuer_;
  std::string service_;
};

std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);
// Standard base64 (Basic auth headers); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace berth::registry::auth
