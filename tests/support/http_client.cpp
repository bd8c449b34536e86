#include "tests/support/http_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>

namespace berth::testing {
namespace {

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("send");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Reads more bytes into `buf`; 0 at EOF; error on timeout.
Result<size_t> read_more(int fd, std::string& buf, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r == 0) return make_error(ErrorCode::kDeadlineExceeded, "timed out waiting for the daemon");
  if (r < 0) return errno_error("poll");
  char tmp[65536];
  ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n < 0) {
    if (errno == ECONNRESET) return size_t{0};
    return errno_error("recv");
  }
  buf.append(tmp, static_cast<size_t>(n));
  return static_cast<size_t>(n);
}

Result<HttpResponse> parse_head(const std::string& head) {
  HttpResponse r;
  r.raw_head = head;
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    return make_error(ErrorCode::kInvalidArgument, "bad status line: " + status_line);
  }
  r.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  return r;
}

std::string serialize(const HttpRequest& req) {
  std::string out = req.method + " " + req.target + " HTTP/1.1\r\nHost: berth\r\n";
  for (const auto& [k, v] : req.headers) out += k + ": " + v + "\r\n";
  if (req.chunked_body) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    size_t pos = 0;
    while (pos < req.body.size()) {
      size_t n = std::min<size_t>(32768, req.body.size() - pos);
      char size_line[32];
      std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
      out += size_line;
      out.append(req.body, pos, n);
      out += "\r\n";
      pos += n;
    }
    out += "0\r\n\r\n";
  } else {
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
      out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
    }
    out += "\r\n" + req.body;
  }
  return out;
}

// Decodes as much of a chunked body as `raw` holds; true when the last chunk was seen.
bool dechunk(std::string& raw, std::string& out) {
  for (;;) {
    size_t eol = raw.find("\r\n");
    if (eol == std::string::npos) return false;
    size_t size = std::stoul(raw.substr(0, eol), nullptr, 16);
    if (size == 0) {
      raw.erase(0, eol + 2);
      return true;
    }
    if (raw.size() < eol + 2 + size + 2) return false;
    out.append(raw, eol + 2, size);
    raw.erase(0, eol + 2 + size + 2);
  }
}

}  // namespace

Result<UniqueFd> HttpClient::connect() const {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return errno_error("connect " + socket_);
  }
  return fd;
}

Result<HttpClient::Streaming> HttpClient::stream(const HttpRequest& req) const {
  auto fd = connect();
  if (!fd) return fd.error();
  BERTH_TRY_STATUS(write_all(fd->get(), serialize(req)));
  std::string buf;
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    auto n = read_more(fd->get(), buf, 30000);
    if (!n) return n.error();
    if (*n == 0) return make_error(ErrorCode::kUnavailable, "connection closed before the head");
  }
  auto head = parse_head(buf.substr(0, head_end));
  if (!head) return head.error();
  Streaming s;
  s.fd = std::move(*fd);
  s.head = std::move(*head);
  s.raw_ = buf.substr(head_end + 4);
  s.chunked_ = s.head.header("transfer-encoding") == "chunked";
  if (s.head.status == 204 || s.head.status == 304 || s.head.status < 200) {
    s.done_ = true;  // no body by definition
    return s;
  }
  if (!s.chunked_) {
    auto cl = s.head.header("content-length");
    if (!cl.empty()) {
      size_t want = std::stoul(cl);
      while (s.raw_.size() < want) {
        auto n = read_more(s.fd.get(), s.raw_, 30000);
        if (!n || *n == 0) break;
      }
      s.decoded_ = s.raw_.substr(0, want);
      s.done_ = true;
    }
  }
  return s;
}

Status HttpClient::Streaming::pump(int timeout_ms) {
  if (done_) return make_error(ErrorCode::kUnavailable, "stream ended");
  if (chunked_ && dechunk(raw_, decoded_)) {
    done_ = true;
    return {};
  }
  auto n = read_more(fd.get(), raw_, timeout_ms);
  if (!n) return n.error();
  if (*n == 0) {
    done_ = true;
    if (!chunked_) decoded_ += raw_;
    return {};
  }
  if (chunked_) {
    if (dechunk(raw_, decoded_)) done_ = true;
  } else {
    decoded_ += raw_;
    raw_.clear();
  }
  return {};
}

Result<std::string> HttpClient::Streaming::read_until(const std::string& needle, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (decoded_.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0 || done_) {
      return make_error(ErrorCode::kDeadlineExceeded, "\"" + needle + "\" not seen; got: " + decoded_);
    }
    BERTH_TRY_STATUS(pump(static_cast<int>(left)));
  }
  return decoded_;
}

Result<std::string> HttpClient::Streaming::read_all(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return make_error(ErrorCode::kDeadlineExceeded, "stream did not end; got: " + decoded_);
    BERTH_TRY_STATUS(pump(static_cast<int>(left)));
  }
  return decoded_;
}

Result<HttpResponse> HttpClient::request(const HttpRequest& req) const {
  auto s = stream(req);
  if (!s) return s.error();
  auto body = req.method == "HEAD" ? Result<std::string>(std::string()) : s->read_all(120000);
  if (!body) return body.error();
  HttpResponse r = std::move(s->head);
  r.body = std::move(*body);
  return r;
}

Result<HttpResponse> HttpClient::post(const std::string& target, std::string body,
                                      std::string content_type) const {
  HttpRequest req{"POST", target, {}, std::move(body)};
  if (!content_type.empty()) req.headers["Content-Type"] = content_type;
  return request(req);
}

Result<HttpClient::Hijacked> HttpClient::hijack(const HttpRequest& req) const {
  auto fd = connect();
  if (!fd) return fd.error();
  HttpRequest r = req;
  r.headers["Connection"] = "Upgrade";
  r.headers["Upgrade"] = "tcp";
  BERTH_TRY_STATUS(write_all(fd->get(), serialize(r)));
  std::string buf;
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    auto n = read_more(fd->get(), buf, 30000);
    if (!n) return n.error();
    if (*n == 0) return make_error(ErrorCode::kUnavailable, "connection closed before the head");
  }
  auto head = parse_head(buf.substr(0, head_end));
  if (!head) return head.error();
  return Hijacked{std::move(*fd), std::move(*head), buf.substr(head_end + 4)};
}

Result<std::string> raw_exchange(const std::string& socket_path, const std::string& bytes,
                                 int timeout_ms) {
  HttpClient c(socket_path);
  auto fd = c.connect();
  if (!fd) return fd.error();
  BERTH_TRY_STATUS(write_all(fd->get(), bytes));
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    auto n = read_more(fd->get(), out, static_cast<int>(left));
    if (!n || *n == 0) break;
  }
  return out;
}

}  // namespace berth::testing
