// The small HTTP/1.1 pieces `berth ui`'s server needs on a raw socket: reading a request head
// (parsed by Beast) and writing a whole response.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace berth::cli::ui {

struct RequestHead {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;    // as sent, not percent-decoded (the dashboard's own paths are plain ASCII)
  std::string query;   // after '?', "" when none
  std::map<std::string, std::string> headers;  // lower-case names
  uint64_t content_length = 0;
  std::string leftover;  // bytes read past the head (the start of the body)

  std::string header(const std::string& lower_name) const;
};

// Reads and parses one request head from fd. nullopt when the peer closed or sent something that
// is not HTTP (the caller just closes). Throws std::runtime_error for a head it must refuse
// (too large, chunked body), whose message is sent back as 400.
std::optional<RequestHead> read_request_head(int fd);

// The value of `name` in a query string ("" when absent), percent-decoded.
std::string query_param(const std::string& query, const std::string& name);

// Writes a complete response with Connection: close.
bool write_response(int fd, int status, const std::string& content_type, const std::string& body,
                    const std::map<std::string, std::string>& extra_headers = {});

}  // namespace berth::cli::ui
