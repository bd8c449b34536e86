// ADD <url> (see url_fetch.hpp). HTTP/1.0 so the answer is never chunked: the body is everything
// after the headers, checked against Content-Length when the server sends one. TLS runs over the
// same non-blocking socket (OpenSSL's WANT_READ/WANT_WRITE waited for with poll), so the
// timeouts and the cancellation check are the same for both schemes.
#include "core/build/url_fetch.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

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

// Waits for the socket to be readable (or writable); false on timeout or cancellation.
bool wait_for(int fd, short events, const std::function<bool()>& cancelled) {
  for (int waited = 0; waited < kTimeoutMs; waited += 200) {
    if (cancelled && cancelled()) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, 200);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
  return false;
}

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

std::string tls_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "the connection failed";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

// A connected socket, plain or with TLS over it: send everything, receive what arrives.
class Connection {
 public:
  static Result<Connection> open(const std::string& url, const UrlParts& u,
                                 const std::function<bool()>& cancelled) {
    auto fd = connect_to(url, u);
    if (!fd) return fd.error();
    Connection c;
    c.fd_ = std::move(*fd);
    if (!u.tls) return c;
    c.ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!c.ctx_) return url_error(url, "TLS: " + tls_reason());
    SSL_CTX_set_min_proto_version(c.ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(c.ctx_.get(), SSL_VERIFY_PEER, nullptr);
    // Servers that close without close_notify are common; a short body is still caught by
    // Content-Length.
    SSL_CTX_set_options(c.ctx_.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (SSL_CTX_set_default_verify_paths(c.ctx_.get()) != 1) return url_error(url, "TLS: no CA store: " + tls_reason());
    c.ssl_.reset(SSL_new(c.ctx_.get()));
    if (!c.ssl_ || SSL_set_fd(c.ssl_.get(), c.fd_.get()) != 1) return url_error(url, "TLS: " + tls_reason());
    in6_addr any{};
    bool is_address = ::inet_pton(AF_INET, u.host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, u.host.c_str(), &any) == 1;
    if (is_address) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c.ssl_.get()), u.host.c_str());
    } else {
      SSL_set_tlsext_host_name(c.ssl_.get(), u.host.c_str());
      SSL_set1_host(c.ssl_.get(), u.host.c_str());
    }
    for (;;) {
      int r = SSL_connect(c.ssl_.get());
      if (r == 1) break;
      int err = SSL_get_error(c.ssl_.get(), r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!c.wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, cancelled)) {
          return url_error(url, "TLS handshake with " + u.host + ":" + u.port + " timed out or was cancelled");
        }
        continue;
      }
      long verify = SSL_get_verify_result(c.ssl_.get());
      std::string why = verify != X509_V_OK ? std::string("certificate verify failed: ") +
                                                  X509_verify_cert_error_string(verify)
                                            : tls_reason();
      return url_error(url, "TLS handshake with " + u.host + ":" + u.port + ": " + why);
    }
    return c;
  }

  Status send_all(const std::string& url, const std::string& data, const std::function<bool()>& cancelled) {
    for (size_t sent = 0; sent < data.size();) {
      if (ssl_) {
        size_t n = 0;
        int r = SSL_write_ex(ssl_.get(), data.data() + sent, data.size() - sent, &n);
        if (r == 1) {
          sent += n;
          continue;
        }
        int err = SSL_get_error(ssl_.get(), r);
        if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
            wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, cancelled)) {
          continue;
        }
        return url_error(url, "send the request: " + tls_reason());
      }
      ssize_t n = ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait(POLLOUT, cancelled)) return url_error(url, "send the request: timed out");
        continue;
      }
      if (n <= 0) return url_error(url, std::string("send the request: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
    return {};
  }

  // Bytes received (0 at the end of the answer); kUnavailable on a stall or cancellation.
  Result<size_t> receive(const std::string& url, char* buf, size_t size, const std::function<bool()>& cancelled) {
    for (;;) {
      if (ssl_) {
        size_t n = 0;
        int r = SSL_read_ex(ssl_.get(), buf, size, &n);
        if (r == 1) return n;
        int err = SSL_get_error(ssl_.get(), r);
        if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          if (!wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, cancelled)) {
            return make_error(ErrorCode::kUnavailable, "ADD " + url + ": the download stalled or was cancelled");
          }
          continue;
        }
        return url_error(url, "read the answer: " + tls_reason());
      }
      ssize_t n = ::recv(fd_.get(), buf, size, 0);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return url_error(url, std::string("read the answer: ") + std::strerror(errno));
      if (!wait(POLLIN, cancelled)) {
        return make_error(ErrorCode::kUnavailable, "ADD " + url + ": the download stalled or was cancelled");
      }
    }
  }

 private:
  bool wait(short events, const std::function<bool()>& cancelled) { return wait_for(fd_.get(), events, cancelled); }

  UniqueFd fd_;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

}  // namespace

Result<UrlParts> parse_http_url(const std::string& url) {
  UrlParts u;
  u.tls = url.rfind("https://", 0) == 0;
  if (!u.tls && url.rfind("http://", 0) != 0) {
    return make_error(ErrorCode::kInvalidArgument, "ADD " + url + ": not an http:// or https:// URL");
  }
  const std::string default_port = u.tls ? "443" : "80";
  std::string rest = url.substr(u.tls ? 8 : 7);
  size_t slash = rest.find_first_of("/?#");
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
    u.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : default_port;
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    u.port = colon == std::string::npos ? default_port : authority.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "ADD " + url + ": expected http(s)://host[:port]/path");
  }
  return u;
}

Result<FetchedUrl> fetch_url(const std::string& url, const std::string& file, int64_t max_bytes,
                             const std::function<bool()>& cancelled) {
  std::string current = url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    auto u = parse_http_url(current);
    if (!u) return u.error();
    auto conn = Connection::open(url, *u, cancelled);
    if (!conn) return conn.error();
    std::string host = u->host.find(':') != std::string::npos ? "[" + u->host + "]" : u->host;
    std::string default_port = u->tls ? "443" : "80";
    std::string request = "GET " + u->path + " HTTP/1.0\r\nHost: " + host + (u->port == default_port ? "" : ":" + u->port) +
                          "\r\nUser-Agent: berth-builder\r\nAccept: */*\r\n\r\n";
    BERTH_TRY_STATUS(conn->send_all(url, request, cancelled));
    // Headers, then the body into the file.
    std::string head;
    std::string buf(1 << 16, '\0');
    size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      auto n = conn->receive(url, buf.data(), buf.size(), cancelled);
      if (!n) return url_error(url, "no answer from " + u->host + ":" + u->port);
      if (*n == 0) return url_error(url, "the server closed the connection before its headers ended");
      head.append(buf.data(), *n);
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
      if (location.front() == '/') location = std::string(u->tls ? "https://" : "http://") + host + ":" + u->port + location;
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
      auto n = conn->receive(url, buf.data(), buf.size(), cancelled);
      if (!n) return n.error();
      if (*n == 0) break;
      BERTH_TRY_STATUS(put(buf.data(), *n));
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
