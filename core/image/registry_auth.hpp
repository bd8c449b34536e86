// Registry credentials inside berthd. The docker CLI sends them with every pull and push in
// X-Registry-Auth (base64url JSON); berthd keeps none of its own, logs none and stores none in
// image metadata. The registry transport asks the host for a registry's credentials on the
// thread that called it, so a request's credentials are bound to that thread (ScopedAuth) for
// the request's duration and seen by no other request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "berth/sdk/host.hpp"
#include "core/common/result.hpp"

namespace berth::core::image {

struct AuthConfig {
  std::string username;
  std::string password;
  std::string identity_token;
  std::string server_address;
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
  sdk::Credentials credentials() const { return {username, password, identity_token}; }
};

// Decodes an X-Registry-Auth value (base64url or standard base64 of {"username","password",
// "auth","serveraddress","identitytoken"}; "auth" is base64 "user:password"). An empty header is
// no credentials; anything undecodable is kInvalidArgument.
Result<AuthConfig> parse_registry_auth(std::string_view header);

// The provider handed to registry transports (init.credentials).
sdk::CredentialProvider& registry_credential_provider();

// Binds `auth` to this thread until destroyed: the transport calls made from it get them.
class ScopedAuth {
 public:
  explicit ScopedAuth(const AuthConfig& auth);
  ~ScopedAuth();
  ScopedAuth(const ScopedAuth&) = delete;
  ScopedAuth& operator=(const ScopedAuth&) = delete;

 private:
  const AuthConfig* previous_;
};

}  // namespace berth::core::image
