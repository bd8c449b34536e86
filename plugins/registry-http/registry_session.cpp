#include "registry_session.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <thread>

namespace json = boost::json;

namespace berth::plugins::registry_http {
namespace {

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool connection_failure(const sdk::Error& e) {
  return e.code == sdk::ErrorCode::kUnavailable || e.code == sdk::ErrorCode::kDeadlineExceeded;
}

bool retryable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(1, sep)) + s;
  return out;
}

sdk::Credentials credentials_for(sdk::CredentialProvider* provider, const std::string& host) {
  if (provider == nullptr) return {};
  auto c = provider->lookup(host);
  return c ? *c : sdk::Credentials{};
}

}  // namespace

std::string registry_error_text(const HttpResponse& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    if (const auto* errors = v.as_object().if_contains("errors"); errors && errors->is_array()) {
      std::string text;
      for (const auto& e : errors->as_array()) {
        if (!e.is_object()) continue;
        std::string code, message;
        if (const auto* c = e.as_object().if_contains("code"); c && c->is_string()) code = c->as_string();
        if (const auto* m = e.as_object().if_contains("message"); m && m->is_string()) message = m->as_string();
        for (auto& ch : code) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::replace(code.begin(), code.end(), '_', ' ');
        text += (text.empty() ? "" : "; ") + code + (message.empty() ? "" : ": " + message);
      }
      if (!text.empty()) return text;
    }
  }
  return "HTTP " + std::to_string(r.status);
}

RegistrySession::RegistrySession(HttpClient& client, sdk::CredentialProvider* credentials,
                                 SessionOptions options)
    : client_(client), credentials_(credentials), options_(options) {}

sdk::Result<std::string> RegistrySession::base_scheme(sdk::Context&, const Target& target) {
  std::lock_guard lock(mutex_);
  if (auto it = schemes_.find(target.host); it != schemes_.end()) return it->second;
  return std::string("https");
}

sdk::Result<RegistrySession::Token> RegistrySession::answer_challenge(
    sdk::Context& ctx, const Target& target, const std::string& www_authenticate,
    const sdk::Credentials& creds) {
  auto challenges = parse_challenges(www_authenticate);
  for (const auto& c : challenges) {
    if (c.scheme == "basic") {
      if (creds.username.empty()) {
        return sdk::make_error(sdk::ErrorCode::kPermissionDenied,
                               "unauthorized: " + target.host +
                                   " wants a user name and password: run `berth login " +
                                   target.host + "`");
      }
      return Token{"Basic " + base64(creds.username + ":" + creds.password),
                   std::chrono::steady_clock::time_point::max()};
    }
  }
  for (const auto& c : challenges) {
    if (c.scheme != "bearer") continue;
    auto realm_it = c.parameters.find("realm");
    if (realm_it == c.parameters.end()) continue;
    auto realm = parse_url(realm_it->second);
    if (!realm) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             target.host + " sent a token realm that is not a URL: " + realm_it->second);
    }
    std::string service;
    if (auto s = c.parameters.find("service"); s != c.parameters.end()) service = s->second;
    std::vector<std::string> scopes = target.scopes;
    if (scopes.empty()) {
      if (auto s = c.parameters.find("scope"); s != c.parameters.end()) scopes.push_back(s->second);
    }
    HttpRequest req;
    req.url = *realm;
    std::string query;
    auto add = [&](const std::string& k, const std::string& v) {
      query += (query.empty() ? "" : "&") + k + "=" + query_escape(v);
    };
    if (!service.empty()) add("service", service);
    for (const auto& s : scopes) add("scope", s);
    if (!creds.identity_token.empty()) {
      // OAuth2 refresh-token grant, as the docker daemon does with an identity token.
      add("grant_type", "refresh_token");
      add("refresh_token", creds.identity_token);
      add("client_id", "berth");
      req.method = "POST";
      req.body = query;
      req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    } else {
      if (!creds.username.empty()) {
        add("account", creds.username);
        req.headers.emplace_back("Authorization",
                                 "Basic " + base64(creds.username + ":" + creds.password));
      }
      std::string sep = req.url.target.find('?') == std::string::npos ? "?" : "&";
      if (!query.empty()) req.url.target += sep + query;
    }
    auto r = client_.send(ctx, req, nullptr, 1 << 20);
    if (!r) return r.error().wrap("get a token from " + realm->authority());
    if (r->status == 401 || r->status == 403) {
      return sdk::make_error(sdk::ErrorCode::kPermissionDenied,
                             "unauthorized: the token server of " + target.host +
                                 " refused the credentials (" + registry_error_text(*r) + ")");
    }
    if (r->status != 200) {
      return sdk::make_error(sdk::ErrorCode::kUnavailable,
                             "token server of " + target.host + " answered " + registry_error_text(*r));
    }
    boost::system::error_code ec;
    auto v = json::parse(r->body, ec);
    if (ec || !v.is_object()) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "token server of " + target.host + " answered something that is not JSON");
    }
    const auto& o = v.as_object();
    std::string token;
    for (const char* k : {"token", "access_token"}) {
      if (const auto* t = o.if_contains(k); t && t->is_string() && !t->as_string().empty()) {
        token = std::string(t->as_string());
        break;
      }
    }
    if (token.empty()) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "token server of " + target.host + " answered without a token");
    }
    int64_t expires_in = 60;  // the distribution spec's default
    if (const auto* e = o.if_contains("expires_in"); e && e->is_int64() && e->as_int64() > 0) {
      expires_in = e->as_int64();
    }
    // Renew a little early so a token never expires between the check and the request.
    auto lifetime = std::chrono::seconds(std::max<int64_t>(expires_in - 5, 1));
    return Token{"Bearer " + token, std::chrono::steady_clock::now() + lifetime};
  }
  return sdk::make_error(sdk::ErrorCode::kUnsupported,
                         target.host + " asks for an authentication scheme berth does not know: " +
                             www_authenticate);
}

sdk::Result<HttpResponse> RegistrySession::perform(sdk::Context& ctx, const Target& target,
                                                   HttpRequest request, const BodySink* sink,
                                                   size_t max_buffered, bool idempotent) {
  return perform_with(ctx, target, std::move(request), sink, max_buffered, idempotent,
                      credentials_for(credentials_, target.host), false);
}

sdk::Result<HttpResponse> RegistrySession::perform_with(sdk::Context& ctx, const Target& target,
                                                        HttpRequest request, const BodySink* sink,
                                                        size_t max_buffered, bool idempotent,
                                                        const sdk::Credentials& creds, bool login) {
  std::string token_key = target.host + "\n" + creds.username + "\n" + join(target.scopes, ' ');
  bool delivered = false;
  BodySink counting;
  if (sink != nullptr) {
    counting = [&](std::string_view d) {
      delivered = true;
      return (*sink)(d);
    };
  }
  auto scheme = base_scheme(ctx, target);
  if (!scheme) return scheme.error();
  std::string path = request.url.target;
  bool authenticated = false;
  auto backoff = options_.backoff;
  for (int attempt = 1;; ++attempt) {
    auto url = parse_url(*scheme + "://" + target.host + path);
    if (!url) return sdk::make_error(sdk::ErrorCode::kInvalidArgument, "bad registry host " + target.host);
    request.url = *url;
    std::string authorization;
    if (!login) {
      std::lock_guard lock(mutex_);
      if (auto it = tokens_.find(token_key); it != tokens_.end()) {
        if (it->second.expires > std::chrono::steady_clock::now()) authorization = it->second.header;
        else tokens_.erase(it);
      }
    }
    sdk::Result<HttpResponse> r = sdk::make_error(sdk::ErrorCode::kInternal, "no request sent");
    bool retry = false;
    bool switched_scheme = false;
    for (int redirects = 0;; ++redirects) {
      HttpRequest sent = request;
      bool same_host = request.url.authority() == target.host;
      if (!authorization.empty() && same_host) sent.headers.emplace_back("Authorization", authorization);
      r = client_.send(ctx, sent, sink ? &counting : nullptr, max_buffered);
      if (!r) {
        // HTTPS refused by a registry allowed plain HTTP: switch once, and remember it.
        if (connection_failure(r.error()) && target.insecure && *scheme == "https" && same_host) {
          std::lock_guard lock(mutex_);
          schemes_[target.host] = "http";
          *scheme = "http";
          retry = true;
          switched_scheme = true;
          --attempt;
        } else if (connection_failure(r.error()) && idempotent && !delivered &&
                   attempt < options_.max_attempts) {
          retry = true;
        }
        break;
      }
      if (same_host && target.insecure && *scheme == "https") {
        std::lock_guard lock(mutex_);
        schemes_.try_emplace(target.host, "https");
      }
      if (r->status == 401 && same_host && !authenticated) {
        auto challenge = r->header("www-authenticate");
        if (challenge.empty()) break;
        auto token = answer_challenge(ctx, target, challenge, creds);
        if (!token) return token.error();
        authenticated = true;
        authorization = token->header;
        if (!login) {
          std::lock_guard lock(mutex_);
          tokens_[token_key] = *token;
        }
        if (request.body_source != nullptr) {
          // A streamed body cannot be sent twice: the caller starts over with the token cached.
          return sdk::make_error(sdk::ErrorCode::kUnavailable, "authentication needed; retry");
        }
        --redirects;
        continue;
      }
      bool redirect = r->status == 301 || r->status == 302 || r->status == 303 ||
                      r->status == 307 || r->status == 308;
      if (redirect && (request.method == "GET" || request.method == "HEAD")) {
        auto location = r->header("location");
        auto next = resolve_location(request.url, location);
        if (!next || redirects >= options_.max_redirects) {
          return sdk::make_error(sdk::ErrorCode::kUnavailable,
                                 target.host + " redirected to an unusable location: " + location);
        }
        request.url = *next;
        continue;
      }
      if (retryable_status(r->status) && idempotent && !delivered && attempt < options_.max_attempts) {
        retry = true;
      }
      break;
    }
    if (!retry) return r;
    // A switch to plain HTTP is not a failure to back off from.
    if (!switched_scheme) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    if (ctx.cancelled()) return sdk::make_error(sdk::ErrorCode::kCancelled, "cancelled");
    authenticated = false;
    request.url.target = path;
  }
}

sdk::Result<sdk::LoginResult> RegistrySession::login(sdk::Context& ctx, const Target& target,
                                                     const sdk::Credentials& credentials) {
  HttpRequest req;
  req.url.target = "/v2/";
  auto r = perform_with(ctx, target, req, nullptr, 1 << 20, true, credentials, true);
  if (!r) return r.error();
  if (r->status == 401 || r->status == 403) {
    return sdk::make_error(sdk::ErrorCode::kPermissionDenied,
                           "login to " + target.host + " failed: unauthorized: incorrect username or password");
  }
  if (r->status != 200) {
    return sdk::make_error(sdk::ErrorCode::kUnavailable, "login to " + target.host + ": registry answered " +
                                                             registry_error_text(*r));
  }
  return sdk::LoginResult{};
}

}  // namespace berth::plugins::registry_http
