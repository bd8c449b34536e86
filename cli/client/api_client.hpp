#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/client/connection.hpp"
#include "cli/client/dialer.hpp"
#include "cli/client/endpoint.hpp"
#include "cli/client/query.hpp"

namespace berth::cli {

// A non-2xx/3xx answer from the daemon. what() is the full line docker prints
// ("Error response from daemon: ...").
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string full)
      : std::runtime_error(std::move(full)), status_(status), message_(std::move(message)) {}
  int status() const { return status_; }
  const std::string& message() const { return message_; }
  bool not_found() const { return status_ == 404; }

 private:
  int status_;
  std::string message_;
};

// Reads a chunk of an upload body into buf; returns 0 at end of input.
using BodySource = std::function<size_t(char* buf, size_t size)>;

struct Request {
  std::string method = "GET";
  std::string path;  // unversioned, e.g. "/containers/json"
  Query query;
  std::optional<std::string> body;  // sent with Content-Length
  BodySource upload;                 // sent chunked (Transfer-Encoding: chunked)
  std::string content_type;          // defaults to application/json when body is set
  std::vector<std::pair<std::string, std::string>> headers;
  bool versioned = true;
};

class ApiClient;

// A response whose body is read incrementally (streams, progress, tar downloads). Returning it to
// scope end after reading everything gives the connection back for keep-alive reuse.
class Response {
 public:
  Response(ApiClient* client, std::unique_ptr<Connection> conn, bool head);
  Response(Response&&) = default;
  ~Response();

  int status() const { return status_; }
  // Header value by case-insensitive name; empty when absent.
  std::string header(const std::string& name) const;
  // Appends the next piece of body to `out`; false at end of body (nothing appended).
  bool read_some(std::string& out);
  std::string read_all();
  // For hijacked (101) sessions: the raw connection and bytes already read past the headers.
  std::unique_ptr<Connection> take_connection(std::string& leftover);
  // Closes the connection without reading the rest (e.g. cancel a pending wait).
  void abandon();
  // Wakes up a read blocked in another thread (shutdown of the socket); that read then ends.
  void interrupt();

 private:
  void read_headers();
  ApiClient* client_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  int status_ = 0;
  int fd_ = -1;
  std::map<std::string, std::string> headers_;
  bool done_ = false;
};

// A hijacked connection: raw bytes both ways after HTTP 101.
struct Hijacked {
  std::unique_ptr<Connection> conn;
  std::string leftover;  // output bytes that arrived with the 101 headers
};

// The Docker Engine API client: pings once, negotiates the API version, then sends versioned
// requests. Thread-safe: concurrent requests each get their own connection (keep-alive
// connections are pooled), as docker's CLI does for run/attach/wait/start.
class ApiClient {
 public:
  static constexpr const char* kMaxApiVersion = "1.43";
  static constexpr const char* kFallbackApiVersion = "1.24";

  explicit ApiClient(Endpoint endpoint);

  const Address& address() const { return dialer_.endpoint().address; }
  const Endpoint& endpoint() const { return dialer_.endpoint(); }
  // TLS handshakes of this command: done, and resumed from the first one's session (for -D).
  std::pair<int, int> tls_handshakes() { return dialer_.tls_handshakes(); }
  // The negotiated version, pinging first if needed.
  std::string api_version();
  // Raw ping headers (Api-Version, Server, Ostype, ...), pinging first if needed.
  const std::map<std::string, std::string>& ping_headers();
  // Server OS from "Server: Docker/x (os)" or the Ostype header.
  std::string server_os();

  // Sends a request and returns the response with its headers read. Throws ApiError for status
  // >= 400 (the body is read as the error message) and ConnectError if unreachable.
  Response send(const Request& req);
  // Like send, but keeps error statuses as a normal response.
  Response send_raw(const Request& req);
  // send() + read the whole body.
  std::string call(const Request& req);
  boost::json::value call_json(const Request& req);
  boost::json::value get_json(const std::string& path, const Query& q = {});
  // Upgrade to a raw stream (attach, exec start); throws unless the daemon answers 101.
  Hijacked hijack(const Request& req);

  // Turns an error response into ApiError (docker's wording).
  [[noreturn]] void throw_api_error(Response& resp, const std::string& url);
  // Message printed when the daemon is unreachable: the error itself when it explains itself
  // (TLS, ssh), else "cannot reach berthd at ...".
  std::string unreachable_message(const ConnectError* error = nullptr) const;

  // Connection pool used by Response.
  void release(std::unique_ptr<Connection> conn);

 private:
  void ping();
  // An idle pooled connection (*reused = true) or a new one.
  std::unique_ptr<Connection> acquire(bool* reused);
  Response dispatch(const Request& req, bool hijack);
  std::string target(const Request& req);

  Dialer dialer_;
  std::mutex mu_;       // guards idle_
  std::mutex ping_mu_;  // guards the one-time negotiation
  bool pinged_ = false;
  std::string version_;
  std::map<std::string, std::string> ping_headers_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// Compares "1.41"-style versions: <0, 0, >0.
int compare_api_versions(const std::string& a, const std::string& b);

}  // namespace berth::cli
