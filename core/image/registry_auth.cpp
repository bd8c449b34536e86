#include "core/image/registry_auth.hpp"

#include <boost/json.hpp>

#include "berth/sdk/base64.hpp"

namespace json = boost::json;

namespace berth::core::image {
namespace {

thread_local const AuthConfig* current_auth = nullptr;

std::string field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

class ThreadCredentials final : public sdk::CredentialProvider {
 public:
  sdk::Result<sdk::Credentials> lookup(std::string_view) override {
    if (current_auth == nullptr) return sdk::Credentials{};
    return current_auth->credentials();
  }
};

}  // namespace

Result<AuthConfig> parse_registry_auth(std::string_view header) {
  AuthConfig out;
  if (header.empty()) return out;
  auto text = sdk::base64_decode(header);
  auto bad = [] {
    return make_error(ErrorCode::kInvalidArgument,
                      "X-Registry-Auth is not base64 of a JSON object: send the credentials as "
                      "the docker CLI does (docker login, then retry)");
  };
  if (!text) return bad();
  json::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) {
    // The docker CLI sends "e30=" ({}) when it has nothing; older clients sent an empty object.
    return bad();
  }
  const auto& o = v.get_object();
  out.username = field(o, "username");
  out.password = field(o, "password");
  out.identity_token = field(o, "identitytoken");
  out.server_address = field(o, "serveraddress");
  if (std::string auth = field(o, "auth"); !auth.empty() && out.username.empty()) {
    if (auto pair = sdk::base64_decode(auth)) {
      auto colon = pair->find(':');
      if (colon != std::string::npos) {
        out.username = pair->substr(0, colon);
        out.password = pair->substr(colon + 1);
      }
    }
  }
  return out;
}

sdk::CredentialProvider& registry_credential_provider() {
  static ThreadCredentials provider;
  return provider;
}

ScopedAuth::ScopedAuth(const AuthConfig& auth) : previous_(current_auth) { current_auth = &auth; }
ScopedAuth::~ScopedAuth() { current_auth = previous_; }

}  // namespace berth::core::image
