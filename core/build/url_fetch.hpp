// ADD <url>: an HTTP or HTTPS GET of the file into a local path, redirects followed. HTTPS
// verifies the server against the system's CAs (OpenSSL's default paths, SSL_CERT_FILE and
// SSL_CERT_DIR honoured) and the URL's host name or address; nothing is fetched unverified.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/common/result.hpp"

namespace berth::core::build {

struct FetchedUrl {
  std::string name;    // the file name the URL's path ends with ("" for none)
  int64_t size = 0;
  int64_t mtime = 0;   // from Last-Modified, 0 when absent or unreadable
};

struct UrlParts {
  std::string host, port, path;
  bool tls = false;  // https
};
// http(s)://host[:port][/path]; kInvalidArgument for anything else.
Result<UrlParts> parse_http_url(const std::string& url);

// Fetches `url` into `file` (created 0600), at most `max_bytes` (0: no limit); `cancelled` is
// polled between reads. Errors name the URL and what went wrong (connect, status, size).
Result<FetchedUrl> fetch_url(const std::string& url, const std::string& file, int64_t max_bytes,
                             const std::function<bool()>& cancelled);

}  // namespace berth::core::build
