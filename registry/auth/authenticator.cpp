#include "registry/auth/authenticator.hpp"

#include <boost/json/object.hpp>

#include "core/common/ids.hpp"
#include "core/common/json_text.hpp"
#include "core/common/time.hpp"
#include "registry/api.hpp"

namespace berth::registry::auth {
using distribution::RegistryErrorCode;

namespace {

int64_t now_seconds() { return now_unix_nano() / 1000000000; }

std::string needed_scope(const std::vector<Need>& needs) {
  // Docker clients ask /token for exactly this scope; one per repository, actions joined.
  std::map<std::string, std::set<std::string>> by_repo;
  bool catalog = false;
  for (const auto& n : needs) {
    if (n.catalog) {
      catalog = true;
    } else {
      by_repo[n.repository].insert(n.action);
      if (n.action == "push") by_repo[n.repository].insert("pull");  // as docker asks
    }
  }
  std::string out;
  for (const auto& [repo, actions] : by_repo) {
    out += (out.empty() ? "" : " ") + scope_string({"repository", repo, actions});
  }
  if (catalog) out += (out.empty() ? "" : " ") + std::string("registry:catalog:*");
  return out;
}

}  // namespace

Authenticator::Authenticator(AuthSettings settings, Htpasswd users)
    : settings_(std::move(settings)), users_(std::move(users)) {
  if (settings_.mode == AuthMode::kToken) {
    std::string secret = settings_.secret.empty() ? random_hex(32) : settings_.secret;
    signer_ = std::make_unique<TokenSigner>(secret, settings_.issuer, settings_.service);
  }
}

Result<std::unique_ptr<Authenticator>> Authenticator::create(AuthSettings settings) {
  Htpasswd users;
  if (settings.mode != AuthMode::kNone) {
    if (settings.htpasswd_path.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "auth.htpasswd: required with basic or token auth (a file made with "
                        "`htpasswd -B -c FILE USER`)");
    }
    auto loaded = Htpasswd::load(settings.htpasswd_path);
    if (!loaded) return std::move(loaded).error().wrap("auth.htpasswd");
    users = std::move(*loaded);
  }
  return std::unique_ptr<Authenticator>(new Authenticator(std::move(settings), std::move(users)));
}

std::optional<std::string> Authenticator::basic_user(const Exchange& ex) const {
  std::string header = ex.header("Authorization");
  if (header.size() < 6 || strncasecmp(header.c_str(), "basic ", 6) != 0) return std::nullopt;
  auto decoded = base64_decode(header.substr(6));
  if (!decoded) return std::string();
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::string();
  std::string user = decoded->substr(0, colon);
  if (user.empty() || !users_.verify(user, decoded->substr(colon + 1))) return std::string();
  return user;
}

Response Authenticator::challenge(const Exchange& ex, const std::vector<Need>& needs,
                                  const std::string& error) const {
  Response res = error_response(RegistryErrorCode::kUnauthorized, "authentication required",
                                nullptr);
  if (settings_.mode == AuthMode::kBasic) {
    res.header("WWW-Authenticate", "Basic realm=\"" + settings_.realm + "\"");
    return res;
  }
  std::string realm = settings_.realm;
  if (realm.empty() || realm == "berth-registry") {
    realm = (settings_.tls ? "https://" : "http://") + (ex.header("Host").empty() ? std::string("127.0.0.1") : ex.header("Host")) +
            "/token";
  }
  std::string value = "Bearer realm=\"" + realm + "\",service=\"" + settings_.service + "\"";
  std::string scope = needed_scope(needs);
  if (!scope.empty()) value += ",scope=\"" + scope + "\"";
  if (!error.empty()) value += ",error=\"" + error + "\"";
  res.header("WWW-Authenticate", value);
  return res;
}

bool Authenticator::may_pull(const std::string& user, const std::string& repository) const {
  return settings_.mode == AuthMode::kNone || settings_.rules.allowed(user, repository).count("pull");
}

std::optional<Response> Authenticator::check(Exchange& ex, const std::vector<Need>& needs) const {
  if (settings_.mode == AuthMode::kNone) return std::nullopt;
  auto denied = [&](const Need& n) {
    return error_response(RegistryErrorCode::kDenied,
                          n.catalog ? "the catalog is not available to " + ex.user
                                    : ex.user + " may not " + n.action + " " + n.repository);
  };

  if (settings_.mode == AuthMode::kBasic) {
    auto user = basic_user(ex);
    if (user && user->empty()) return challenge(ex, needs, "");  // wrong credentials
    ex.user = user.value_or("");
    // /v2/ itself: clients learn there whether and how to log in.
    if (needs.empty() && ex.user.empty()) return challenge(ex, needs, "");
    for (const auto& n : needs) {
      bool ok = n.catalog ? !ex.user.empty()
                          : settings_.rules.allowed(ex.user, n.repository).count(n.action) > 0;
      if (!ok) return ex.user.empty() ? challenge(ex, needs, "") : denied(n);
    }
    return std::nullopt;
  }

  // Token auth.
  std::string header = ex.header("Authorization");
  if (header.size() < 7 || strncasecmp(header.c_str(), "bearer ", 7) != 0) {
    return challenge(ex, needs, "");
  }
  auto claims = signer_->verify(std::string_view(header).substr(7), now_seconds());
  if (!claims) return challenge(ex, needs, "invalid_token");
  ex.user = claims->subject;
  for (const auto& n : needs) {
    bool granted = false;
    for (const auto& g : claims->access) {
      if (n.catalog ? (g.type == "registry" && g.name == "catalog")
                    : (g.type == "repository" && g.name == n.repository &&
                       g.actions.count(n.action))) {
        granted = true;
      }
    }
    if (granted) continue;
    // Asked for a token without this scope, but entitled: the client fetches another token.
    bool entitled = n.catalog ? !ex.user.empty()
                              : settings_.rules.allowed(ex.user, n.repository).count(n.action) > 0;
    if (entitled || ex.user.empty()) return challenge(ex, needs, "insufficient_scope");
    return denied(n);
  }
  return std::nullopt;
}

Response Authenticator::issue_token(Exchange& ex) const {
  if (settings_.mode != AuthMode::kToken) {
    return error_response(RegistryErrorCode::kUnsupported, "token auth is not enabled", nullptr, 404);
  }
  auto user = basic_user(ex);
  if (user && user->empty()) {
    Response res = error_response(RegistryErrorCode::kUnauthorized, "wrong user name or password");
    res.header("WWW-Authenticate", "Basic realm=\"" + settings_.service + "\"");
    return res;
  }
  std::string subject = user.value_or("");
  std::vector<Grant> granted;
  for (auto it = ex.query.lower_bound("scope"); it != ex.query.end() && it->first == "scope"; ++it) {
    // Several scopes may also come space-separated in one parameter.
    std::string_view all = it->second;
    while (!all.empty()) {
      size_t space = all.find(' ');
      auto requested = parse_scope(all.substr(0, space));
      all = space == std::string_view::npos ? std::string_view() : all.substr(space + 1);
      if (!requested) continue;
      Grant g{requested->type, requested->name, {}};
      if (g.type == "repository") {
        auto allowed = settings_.rules.allowed(subject, g.name);
        for (const auto& a : requested->actions) {
          if (allowed.count(a)) g.actions.insert(a);
        }
      } else if (g.type == "registry" && g.name == "catalog" && !subject.empty()) {
        g.actions.insert("*");
      }
      if (!g.actions.empty()) granted.push_back(std::move(g));
    }
  }
  int64_t now = now_seconds();
  std::string token = signer_->issue(subject, granted, settings_.token_ttl, now);
  boost::json::object body{{"token", token},
                           {"access_token", token},
                           {"expires_in", settings_.token_ttl.count()},
                           {"issued_at", rfc3339_seconds(now)}};
  Response res;
  res.header("Content-Type", "application/json");
  res.body = json_text::serialize(body);
  return res;
}

}  // namespace berth::registry::auth
