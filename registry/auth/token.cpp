#include "registry/auth/token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "berth/sdk/base64.hpp"

namespace berth::registry::auth {
namespace json = boost::json;

namespace {

std::string hmac_sha256(const std::string& key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

Error denied(std::string message) {
  return make_error(ErrorCode::kPermissionDenied, "invalid token: " + std::move(message));
}

}  // namespace

// JWT segments: base64url without padding (RFC 7515); the SDK's codec (OpenSSL's).
std::string base64url_encode(std::string_view data) {
  return sdk::base64_encode(data, sdk::Base64Alphabet::kUrl, sdk::Base64Padding::kNone);
}

// The SDK's decoder takes either alphabet, padded or not. A token's signature is checked on its
// text, before anything is decoded, so that leniency accepts no token the strict one would refuse.
std::optional<std::string> base64url_decode(std::string_view text) {
  return sdk::base64_decode(text);
}
std::optional<std::string> base64_decode(std::string_view text) { return sdk::base64_decode(text); }

std::optional<Grant> parse_scope(std::string_view scope) {
  size_t first = scope.find(':');
  size_t last = scope.rfind(':');
  if (first == std::string_view::npos || first == last) return std::nullopt;
  Grant grant{std::string(scope.substr(0, first)),
              std::string(scope.substr(first + 1, last - first - 1)), {}};
  std::string_view actions = scope.substr(last + 1);
  while (!actions.empty()) {
    size_t comma = actions.find(',');
    auto action = actions.substr(0, comma);
    if (!action.empty()) grant.actions.insert(std::string(action));
    actions = comma == std::string_view::npos ? std::string_view() : actions.substr(comma + 1);
  }
  if (grant.type.empty() || grant.name.empty()) return std::nullopt;
  return grant;
}

std::string scope_string(const Grant& grant) {
  std::string actions;
  for (const auto& a : grant.actions) actions += (actions.empty() ? "" : ",") + a;
  return grant.type + ":" + grant.name + ":" + actions;
}

std::string TokenSigner::issue(const std::string& subject, const std::vector<Grant>& access,
                               std::chrono::seconds ttl, int64_t now) const {
  json::array claims_access;
  for (const auto& g : access) {
    json::array actions;
    for (const auto& a : g.actions) actions.emplace_back(a);
    claims_access.push_back(json::object{{"type", g.type}, {"name", g.name}, {"actions", actions}});
  }
  json::object claims{{"iss", issuer_}, {"sub", subject}, {"aud", service_},
                      {"iat", now}, {"nbf", now - 10}, {"exp", now + ttl.count()},
                      {"access", std::move(claims_access)}};
  std::string signing_input = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                              base64url_encode(json::serialize(claims));
  return signing_input + "." + base64url_encode(hmac_sha256(secret_, signing_input));
}

Result<TokenClaims> TokenSigner::verify(std::string_view token, int64_t now) const {
  size_t dot1 = token.find('.');
  size_t dot2 = token.rfind('.');
  if (dot1 == std::string_view::npos || dot1 == dot2) return denied("not a JWT");
  std::string expected = base64url_encode(hmac_sha256(secret_, token.substr(0, dot2)));
  std::string_view signature = token.substr(dot2 + 1);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return denied("bad signature");
  }
  auto header = base64url_decode(token.substr(0, dot1));
  auto payload = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !payload) return denied("bad encoding");
  boost::system::error_code ec;
  auto h = json::parse(*header, ec);
  if (ec || !h.is_object() || h.get_object().if_contains("alg") == nullptr ||
      h.at("alg") != "HS256") {
    return denied("unexpected algorithm");
  }
  auto claims = json::parse(*payload, ec);
  if (ec || !claims.is_object()) return denied("bad claims");
  const auto& c = claims.get_object();
  auto number = [&](std::string_view k) -> int64_t {
    const json::value* v = c.if_contains(k);
    return v && v->is_int64() ? v->get_int64() : 0;
  };
  const json::value* aud = c.if_contains("aud");
  if (!aud || !aud->is_string() || aud->get_string() != service_) return denied("other audience");
  TokenClaims out;
  out.expires_at = number("exp");
  if (out.expires_at <= now) return denied("expired");
  if (number("nbf") > now) return denied("not valid yet");
  if (const json::value* sub = c.if_contains("sub"); sub && sub->is_string()) {
    out.subject = std::string(sub->get_string());
  }
  if (const json::value* access = c.if_contains("access"); access && access->is_array()) {
    for (const auto& item : access->get_array()) {
      if (!item.is_object()) continue;
      Grant g;
      const auto& o = item.get_object();
      if (auto* t = o.if_contains("type"); t && t->is_string()) g.type = std::string(t->get_string());
      if (auto* n = o.if_contains("name"); n && n->is_string()) g.name = std::string(n->get_string());
      if (auto* a = o.if_contains("actions"); a && a->is_array()) {
        for (const auto& x : a->get_array()) {
          if (x.is_string()) g.actions.insert(std::string(x.get_string()));
        }
      }
      out.access.push_back(std::move(g));
    }
  }
  return out;
}

}  // namespace berth::registry::auth
