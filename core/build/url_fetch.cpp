// ADD <url> (see url_fetch.hpp). HTTP/1.0 so the answer is never chunked: the body is everything
// after the headers, checked against Content-Length when the server sends one.
#include "core/build/url_fetch.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/common/unique_fd.hpp"

namespace berth::core::build {
namespace {

constexpr int kTimeoutMs = 30000;
constexpr int kMaxRedirects = 5;

Error url_error(const std::string& url, const std::string& what) {
  return make_error(ErrorCode::kFailedPrecondition, "ADD " + url + ": " + what);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<UniqueFd> connect_to(const std::string& url, const UrlParts& u) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found);
  if (rc != 0) return url_error(url, "cannot resolve " + u.host + ": " + ::gai_strerror(rc));
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd.valid()) continue;
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (::poll(&p, 1, kTimeoutMs) != 1) {
      last = "timed out";
      continue;
    }
    (void)::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = std::strerror(err);
      continue;
    }
    ::freeaddrinfo(found);
    return fd;
  }
  ::freeaddrinfo(found);
  return url_error(url, "cannot connect to " + u.host + ":" + u.port + ": " + last);
}

// Waits for the socket to be readable; false on timeout or cancellation.
bool wait_readable(int fd, const std::function<bool()>& cancelled) {
  for (int waited = 0; waited < kTimeoutMs; waited += 200) {
    if (cancelled && cancelled()) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
  return false;
}

}  // namespace

Result<UrlParts> parse_http_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0) {
    return make_error(ErrorCode::kInvalidArgument, "ADD " + url + ": https URLs are not supported by this berthd's builder "
                                                   "(no TLS client): download the file into the context, or with curl in a RUN step");
  }
  if (url.rfind("http://", 0) != 0) return make_error(ErrorCode::kInvalidArgument, "ADD " + url + ": not an http:// URL");
  std::string rest = url.substr(7);
  size_t slash = rest.find_first_of("/?#");
  UrlParts u;
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.path.front() != '/') u.path = "/" + u.path;
  if (size_t hash = u.path.find('#'); hash != std::string::npos) u.path.resize(hash);
  if (authority.find('@') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "ADD " + url + ": credentials in URLs are not supported");
  }
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) return make_error(ErrorCode::kInvalidArgument, "ADD " + url + ": bad IPv6 address");
    u.host = authority.substr(1, close - 1);
    u.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "80";
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "ADD " + url + ": expected http://host[:port]/path");
  }
  return u;
}

Result<FetchedUrl> fetch_url(const std::string& url, const std::string& file, int64_t max_bytes,
                             const std::function<bool()>& cancelled) {
  std::string current = url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    auto u = parse_http_url(current);
    if (!u) return u.error();
    auto fd = connect_to(url, *u);
    if (!fd) return fd.error();
    std::string host = u->host.find(':') != std::string::npos ? "[" + u->host + "]" : u->host;
    std::string request = "GET " + u->path + " HTTP/1.0\r\nHost: " + host + (u->port == "80" ? "" : ":" + u->port) +
                          "\r\nUser-Agent: berth-builder\r\nAccept: */*\r\n\r\n";
    for (size_t sent = 0; sent < request.size();) {
      ssize_t n = ::send(fd->get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        pollfd p{fd->get(), POLLOUT, 0};
        (void)::poll(&p, 1, kTimeoutMs);
        continue;
      }
      if (n <= 0) return url_error(url, std::string("send the request: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
    // Headers, then the body into the file.
    std::string head;
    std::string buf(1 << 16, '\0');
    size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      if (!wait_readable(fd->get(), cancelled)) return url_error(url, "no answer from " + u->host + ":" + u->port);
      ssize_t n = ::recv(fd->get(), buf.data(), buf.size(), 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return url_error(url, "the server closed the connection before its headers ended");
      head.append(buf.data(), static_cast<size_t>(n));
      header_end = head.find("\r\n\r\n");
      if (header_end == std::string::npos && head.size() > (1 << 16)) return url_error(url, "headers too large");
    }
    std::string body_start = head.substr(header_end + 4);
    head.resize(header_end);
    int status = 0;
    std::string reason;
    {
      size_t sp = head.find(' ');
      size_t eol = head.find("\r\n");
      if (sp == std::string::npos || head.rfind("HTTP/", 0) != 0) return url_error(url, "not an HTTP answer");
      status = std::atoi(head.c_str() + sp + 1);
      reason = head.substr(sp + 1, eol == std::string::npos ? std::string::npos : eol - sp - 1);
    }
    std::string location, last_modified;
    int64_t length = -1;
    for (size_t p = head.find("\r\n"); p != std::string::npos;) {
      size_t next = head.find("\r\n", p + 2);
      std::string line = head.substr(p + 2, next == std::string::npos ? std::string::npos : next - p - 2);
      p = next;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (name == "location") location = value;
      else if (name == "last-modified") last_modified = value;
      else if (name == "content-length") length = std::atoll(value.c_str());
    }
    if (status >= 300 && status < 400 && !location.empty()) {
      if (location.front() == '/') location = "http://" + host + ":" + u->port + location;
      current = location;
      continue;
    }
    if (status < 200 || status >= 300) return url_error(url, "the server answered " + reason);
    if (max_bytes > 0 && length > max_bytes) return url_error(url, "the file is larger than the build context limit");
    UniqueFd out(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!out.valid()) return errno_error("create " + file);
    int64_t total = 0;
    auto put = [&](const char* data, size_t n) -> Status {
      total += static_cast<int64_t>(n);
      if (max_bytes > 0 && total > max_bytes) return url_error(url, "the file is larger than the build context limit");
      for (size_t done = 0; done < n;) {
        ssize_t w = ::write(out.get(), data + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return errno_error("write " + file);
        done += static_cast<size_t>(w);
      }
      return {};
    };
    BERTH_TRY_STATUS(put(body_start.data(), body_start.size()));
    for (;;) {
      if (!wait_readable(fd->get(), cancelled)) return url_error(url, "the download stalled or was cancelled");
      ssize_t n = ::recv(fd->get(), buf.data(), buf.size(), 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) return url_error(url, std::string("read the answer: ") + std::strerror(errno));
      if (n == 0) break;
      BERTH_TRY_STATUS(put(buf.data(), static_cast<size_t>(n)));
    }
    if (length >= 0 && total != length) {
      return url_error(url, "the answer ended after " + std::to_string(total) + " of " + std::to_string(length) + " bytes");
    }
    FetchedUrl f;
    f.size = total;
    std::string path = u->path.substr(0, u->path.find('?'));
    f.name = path.substr(path.rfind('/') + 1);
    if (!last_modified.empty()) {
      std::tm tm{};
      if (::strptime(last_modified.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr) f.mtime = ::timegm(&tm);
    }
    return f;
  }
  return url_error(url, "too many redirects");
}

}  // namespace berth::core::build
