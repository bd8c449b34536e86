// Writing an answer: a whole body, a Docker-style error, a chunked stream (pull progress,
// events, logs, wait), or a hijacked raw connection (attach, exec start).
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/api/transport.hpp"
#include "core/common/result.hpp"

namespace berth::core::api {

// HTTP status for an error code (Docker's mapping).
int status_for(ErrorCode code);

struct Hijack {
  Transport* transport = nullptr;
  std::string leftover;  // bytes the client sent after the request, already read by the parser
};

class ResponseWriter {
 public:
  ResponseWriter(Transport& transport, bool head_request, bool keep_alive);

  void add_header(std::string name, std::string value);

  void send(int status, std::string_view body, std::string_view content_type);
  void send_json(int status, const boost::json::value& body);
  void send_empty(int status);
  // {"message": ...} with exactly "Content-Type: application/json" (the docker CLI prints raw
  // bodies for any other content type).
  void send_error(int status, std::string_view message);
  void send_error(const Error& error) { send_error(status_for(error.code), error.message); }

  // Chunked stream: the headers go out at once (clients block on them, e.g. docker run's wait).
  Status start_stream(int status, std::string_view content_type);
  Status write_chunk(std::string_view data);
  Status end_stream();

  // 101 UPGRADED, then the connection is the handler's raw byte pipe until it returns.
  Result<Hijack> hijack(std::string_view content_type);

  [[nodiscard]] bool started() const { return started_; }
  [[nodiscard]] bool streaming() const { return streaming_; }
  [[nodiscard]] bool hijacked() const { return hijacked_; }
  // The connection cannot carry another request (stream cut short, hijack, write failure).
  [[nodiscard]] bool must_close() const { return must_close_ || !keep_alive_; }
  [[nodiscard]] int status() const { return status_; }
  // Non-blocking check that the client went away (for long waits).
  bool client_gone() { return transport_.peer_closed(); }
  Transport& transport() { return transport_; }

  // Set by the connection before calling the handler.
  void set_leftover(std::string leftover) { leftover_ = std::move(leftover); }

 private:
  std::string head(int status, std::string_view content_type, std::string_view length_or_te);
  Status write(std::string_view data);

  Transport& transport_;
  bool head_request_;
  bool keep_alive_;
  bool started_ = false;
  bool streaming_ = false;
  bool hijacked_ = false;
  bool must_close_ = false;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  std::string leftover_;
};

// Value of the Server header: "Docker/<version>+berth (linux)", the shape the docker CLI parses
// for the daemon OS.
std::string server_header();
inline constexpr std::string_view kApiVersion = "1.41";
inline constexpr std::string_view kMinApiVersion = "1.24";

}  // namespace berth::core::api
