#include "core/api/response.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "core/common/json_text.hpp"
#include "core/version.hpp"

namespace berth::core::api {
namespace {

std::string_view reason(int status) {
  switch (status) {
    case 101: return "UPGRADED";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

// RFC 7231 date, formatted at most once per second.
std::string http_date() {
  static std::mutex m;
  static time_t cached_at = 0;
  static std::string cached;
  time_t now = std::time(nullptr);
  std::lock_guard lock(m);
  if (now != cached_at) {
    struct tm tm {};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_at = now;
  }
  return cached;
}

constexpr size_t kMaxErrorMessage = 4096;

}  // namespace

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kUnsupported: return 501;
    case ErrorCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::string server_header() {
  return "Docker/" + std::string(kBerthVersion) + "+berth (linux)";
}

ResponseWriter::ResponseWriter(Transport& transport, bool head_request, bool keep_alive)
    : transport_(transport), head_request_(head_request), keep_alive_(keep_alive) {}

void ResponseWriter::add_header(std::string name, std::string value) {
  extra_headers_.emplace_back(std::move(name), std::move(value));
}

std::string ResponseWriter::head(int status, std::string_view content_type,
                                 std::string_view framing) {
  status_ = status;
  std::string h;
  h.reserve(320);
  h += "HTTP/1.1 ";
  h += std::to_string(status);
  h += ' ';
  h += reason(status);
  h += "\r\nApi-Version: ";
  h += kApiVersion;
  h += "\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: ";
  static const std::string kServer = server_header();
  h += kServer;
  h += "\r\nDate: ";
  h += http_date();
  h += "\r\n";
  if (!content_type.empty()) {
    h += "Content-Type: ";
    h += content_type;
    h += "\r\n";
  }
  for (const auto& [name, value] : extra_headers_) {
    h += name;
    h += ": ";
    h += value;
    h += "\r\n";
  }
  h += framing;
  if (!keep_alive_) h += "Connection: close\r\n";
  h += "\r\n";
  return h;
}

Status ResponseWriter::write(std::string_view data) {
  Status s = transport_.write_all(data.data(), data.size());
  if (!s) must_close_ = true;
  return s;
}

void ResponseWriter::send(int status, std::string_view body, std::string_view content_type) {
  if (started_) return;
  started_ = true;
  std::string out;
  if (status == 204 || status == 304) {
    out = head(status, "", "");
  } else {
    out = head(status, content_type, "Content-Length: " + std::to_string(body.size()) + "\r\n");
    if (!head_request_) out += body;
  }
  (void)write(out);
}

void ResponseWriter::send_json(int status, const boost::json::value& body) {
  std::string text = json_text::serialize(body);
  text += '\n';
  send(status, text, "application/json");
}

void ResponseWriter::send_empty(int status) { send(status, "", ""); }

void ResponseWriter::send_error(int status, std::string_view message) {
  boost::json::object o;
  // Messages quote what the client sent; a huge name must not make a huge answer.
  o["message"] = message.size() > kMaxErrorMessage ? json_text::shorten_for_message(message, kMaxErrorMessage)
                                                   : std::string(message);
  send_json(status, o);
}

Status ResponseWriter::start_stream(int status, std::string_view content_type) {
  if (started_) return make_error(ErrorCode::kInternal, "response already started");
  started_ = true;
  streaming_ = true;
  if (head_request_) {
    return write(head(status, content_type, "Content-Length: 0\r\n"));
  }
  return write(head(status, content_type, "Transfer-Encoding: chunked\r\n"));
}

Status ResponseWriter::write_chunk(std::string_view data) {
  if (data.empty() || head_request_) return {};
  char size_line[24];
  int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  std::string out;
  out.reserve(static_cast<size_t>(n) + data.size() + 2);
  out.append(size_line, static_cast<size_t>(n));
  out.append(data);
  out += "\r\n";
  return write(out);
}

Status ResponseWriter::end_stream() {
  if (!streaming_ || head_request_) return {};
  streaming_ = false;
  return write("0\r\n\r\n");
}

Result<Hijack> ResponseWriter::hijack(std::string_view content_type) {
  if (started_) return make_error(ErrorCode::kInternal, "response already started");
  started_ = true;
  hijacked_ = true;
  must_close_ = true;
  status_ = 101;
  // Like dockerd: a bare 101 without the API headers.
  std::string h = "HTTP/1.1 101 UPGRADED\r\nContent-Type: ";
  h += content_type;
  h += "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
  BERTH_TRY_STATUS(write(h));
  transport_.wait_peer_took(std::chrono::milliseconds(500));
  return Hijack{&transport_, std::move(leftover_)};
}

}  // namespace berth::core::api
