// One registry conversation as Docker has it: the scheme (HTTPS, or plain HTTP for loopback and
// insecure registries after HTTPS failed), the 401 → WWW-Authenticate → Bearer token (anonymous
// or with credentials, cached per registry, user and scope until it expires) or Basic answer,
// redirects (Authorization never follows to another host), and retries with backoff on 429,
// 5xx and connection failures for requests that can be repeated.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "berth/sdk/host.hpp"
#include "berth/sdk/registry_transport.hpp"
#include "http_client.hpp"

namespace berth::plugins::registry_http {

struct SessionOptions {
  int max_attempts = 4;                      // per request, for 429/5xx/connection failures
  std::chrono::milliseconds backoff{250};    // doubled at every attempt
  int max_redirects = 5;
};

struct Target {
  std::string host;  // "127.0.0.1:5000"
  bool insecure = false;
  std::vector<std::string> scopes;  // "repository:library/busybox:pull"
};

class RegistrySession {
 public:
  RegistrySession(HttpClient& client, sdk::CredentialProvider* credentials, SessionOptions options);

  // Sends `request` (its url.target set; scheme and host are filled in). `idempotent` allows
  // retries, as long as no byte reached `sink`.
  sdk::Result<HttpResponse> perform(sdk::Context& ctx, const Target& target, HttpRequest request,
                                    const BodySink* sink, size_t max_buffered, bool idempotent);

  // docker login: GET /v2/ with `credentials`, answering the registry's challenge with them.
  sdk::Result<sdk::LoginResult> login(sdk::Context& ctx, const Target& target,
                                      const sdk::Credentials& credentials);

 private:
  struct Token {
    std::string header;  // "Bearer ..." or "Basic ..."
    std::chrono::steady_clock::time_point expires;
  };
  sdk::Result<std::string> base_scheme(sdk::Context& ctx, const Target& target);
  sdk::Result<Token> answer_challenge(sdk::Context& ctx, const Target& target,
                                      const std::string& www_authenticate,
                                      const sdk::Credentials& credentials);
  sdk::Result<HttpResponse> perform_with(sdk::Context& ctx, const Target& target,
                                         HttpRequest request, const BodySink* sink,
                                         size_t max_buffered, bool idempotent,
                                         const sdk::Credentials& credentials, bool login);

  HttpClient& client_;
  sdk::CredentialProvider* credentials_;
  SessionOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::string> schemes_;  // host → "https"/"http" that worked
  std::map<std::string, Token> tokens_;         // host \n user \n scopes → token
};

// The registry's own words from an error answer ({"errors":[{"code","message"}]}), else the
// HTTP status line.
std::string registry_error_text(const HttpResponse& response);

}  // namespace berth::plugins::registry_http
