// One HTTP request/response as the registry's handlers see it, independent of the server:
// decoded path and query, headers, a body read on demand (whole or streamed), and a response
// that is either text or a file region (sent with sendfile where the transport allows).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::registry {

template <class T>
using Task = boost::asio::awaitable<T>;

struct Response {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When valid, the body is [file_offset, file_offset + file_length) of this file.
  UniqueFd file;
  int64_t file_offset = 0;
  int64_t file_length = 0;
  // HEAD: the Content-Length of the GET answer, and no body bytes.
  bool omit_body = false;

  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // HEAD of a file body: the length the GET would send, without opening the file.
  std::optional<int64_t> declared_length;

  int64_t content_length() const {
    if (declared_length) return *declared_length;
    return file.valid() ? file_length : static_cast<int64_t>(body.size());
  }
};

class Exchange {
 public:
  virtual ~Exchange() = default;

  std::string method;  // "GET", ...
  std::string path;    // percent-decoded, without the query
  std::multimap<std::string, std::string> query;  // decoded
  std::string user;    // the authenticated user, "" when anonymous
  std::string remote;  // the peer's IP address

  std::optional<std::string> query_value(std::string_view name) const {
    auto it = query.find(std::string(name));
    if (it == query.end()) return std::nullopt;
    return it->second;
  }
  // "" when absent; names are case-insensitive.
  virtual std::string header(std::string_view name) const = 0;
  // The request's Content-Length, or nullopt (chunked or absent).
  virtual std::optional<uint64_t> content_length() const = 0;
  // The whole body; kResourceExhausted beyond `limit` bytes.
  virtual Task<Result<std::string>> read_body(size_t limit) = 0;
  // The body in pieces, each handed to `sink` (which may fail and stop the read).
  virtual Task<Status> stream_body(std::function<Status(std::string_view)> sink) = 0;
  // Like stream_body for a sink that writes (and hashes) into a file: the sink runs on the
  // server's file threads while the next piece is read, so the network and the disk work at
  // once and a write that waits on the disk never stalls the threads serving other clients.
  virtual Task<Status> stream_body_to_disk(std::function<Status(std::string_view)> sink) = 0;
  // Runs `work` (fsync, rename, reading a file back) on the file threads; this request waits
  // for it, the others go on.
  virtual Task<Status> run_blocking(std::function<Status()> work) = 0;
};

}  // namespace berth::registry
