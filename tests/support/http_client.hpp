// A small HTTP/1.1 client for tests: unix-socket requests with whole or chunked answers, and
// hijacked (101) connections for attach/exec tests. Independent of the CLI's client on purpose:
// tests check the daemon's bytes, not another implementation's reading of them.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
  std::string raw_head;                        // status line and headers as received

  std::string header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::map<std::string, std::string> headers;
  std::string body;
  bool chunked_body = false;  // send the body with Transfer-Encoding: chunked
};

class HttpClient {
 public:
  explicit HttpClient(std::string socket_path) : socket_(std::move(socket_path)) {}

  // One request on a fresh connection.
  Result<HttpResponse> request(const HttpRequest& req) const;
  Result<HttpResponse> get(const std::string& target) const { return request({"GET", target}); }
  Result<HttpResponse> post(const std::string& target, std::string body = "",
                            std::string content_type = "application/json") const;
  Result<HttpResponse> del(const std::string& target) const { return request({"DELETE", target}); }

  // Sends a request expecting 101 and returns the raw connection plus bytes read past the head.
  struct Hijacked {
    UniqueFd fd;
    HttpResponse head;
    std::string early;  // bytes after the 101 head already read
  };
  Result<Hijacked> hijack(const HttpRequest& req) const;

  // Starts a request and returns once the response head arrived (wait, events, logs -f).
  struct Streaming {
    UniqueFd fd;
    HttpResponse head;
    std::string pending;  // bytes of the body already read
    // Reads until `needle` shows up in the de-chunked body (or timeout/EOF).
    Result<std::string> read_until(const std::string& needle, int timeout_ms);
    Result<std::string> read_all(int timeout_ms);

    // Internal state (filled by HttpClient::stream).
    std::string decoded_;
    std::string raw_;
    bool chunked_ = true;
    bool done_ = false;
    Status pump(int timeout_ms);
  };
  Result<Streaming> stream(const HttpRequest& req) const;

  Result<UniqueFd> connect() const;

 private:
  std::string socket_;
};

// Connects and sends raw bytes, returning everything the server sends until it closes or
// `timeout_ms` passes (protocol edge cases: pipelining, malformed requests).
Result<std::string> raw_exchange(const std::string& socket_path, const std::string& bytes,
                                 int timeout_ms);

}  // namespace berth::testing
