// A small synchronous HTTP/1.1 client over Boost.Beast for the registry transport: HTTPS with
// the system CA store plus Docker-style certs.d/<host:port>/ folders, plain HTTP, persistent
// connections pooled per scheme://host:port, timeouts on connect and on every stalled read or
// write, cancellation polled between chunks, and streamed request and response bodies.
// Authentication, redirects and retries are the transport's (registry_session.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "berth/sdk/host.hpp"
#include "berth/sdk/registry_transport.hpp"
#include "challenge.hpp"

namespace berth::plugins::registry_http {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{15000};
  std::chrono::milliseconds stall_timeout{60000};  // no byte moved for this long: give up
  std::string certs_dir = "/etc/docker/certs.d";   // <certs_dir>/<host:port>/{ca.crt,client.*}
  size_t idle_per_host = 8;
};

struct HttpResponse;

struct HttpRequest {
  std::string method = "GET";
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                        // small bodies (JSON, forms)
  sdk::ByteSource* body_source = nullptr;  // a streamed body of body_length bytes (blob upload)
  int64_t body_length = 0;
  // Sees a 2xx answer's status and headers before its body goes to the sink.
  std::function<sdk::Status(const HttpResponse&)> on_headers;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;  // buffered when no sink took it (bounded by max_buffered)
  std::string header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Takes a 2xx body as it arrives; an error stops the transfer.
using BodySink = std::function<sdk::Status(std::string_view)>;

// Errors of the connection itself (refused, reset, TLS, timeout) are kUnavailable or
// kDeadlineExceeded, so the caller can tell them from HTTP answers worth retrying.
class HttpClient {
 public:
  explicit HttpClient(ClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One exchange. A 2xx body goes to `sink` when given; any other body is buffered up to
  // max_buffered bytes (more is an error). A reused connection the server had closed is
  // replaced once, transparently, when the request has no streamed body.
  sdk::Result<HttpResponse> send(sdk::Context& ctx, const HttpRequest& request,
                                 const BodySink* sink, size_t max_buffered);

  // Connections opened in the client's lifetime (for `berth info`: reuse at work).
  int64_t connections_opened() const;

  struct Connection;

 private:
  sdk::Result<std::unique_ptr<Connection>> checkout(const Url& url, bool fresh);
  void checkin(std::unique_ptr<Connection> c);
  sdk::Result<HttpResponse> exchange(sdk::Context& ctx, Connection& c, const HttpRequest& request,
                                     const BodySink* sink, size_t max_buffered, bool& reusable,
                                     bool& nothing_received);
  struct Tls;
  ClientOptions options_;
  std::unique_ptr<Tls> tls_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  int64_t opened_ = 0;
};

}  // namespace berth::plugins::registry_http
