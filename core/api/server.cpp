#include "core/api/server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>

#include "core/api/tls_transport.hpp"
#include "core/common/json_text.hpp"
#include "core/common/systemd.hpp"
#include "core/common/logging.hpp"

namespace http = boost::beast::http;
namespace net = boost::asio;

namespace berth::core::api {
namespace {

// Adapts a Transport to Beast's SyncReadStream concept.
class BeastStream {
 public:
  explicit BeastStream(Transport& t) : t_(t) {}

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      net::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      auto n = t_.read_some(static_cast<char*>(b.data()), b.size());
      if (!n) {
        ec = n.error().code == ErrorCode::kDeadlineExceeded
                 ? make_error_code(net::error::timed_out)
                 : boost::system::errc::make_error_code(boost::system::errc::io_error);
        return 0;
      }
      if (*n == 0) ec = net::error::eof;
      return *n;
    }
    return 0;
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  Transport& t_;
};

using Parser = http::request_parser<http::buffer_body>;

std::string json_error_body(std::string_view message) {
  boost::json::object body{{"message", message}};
  return json_text::serialize(body) + "\n";
}


// Pulls the request body out of the Beast parser as the handler asks for it.
// Each read of the body must make progress within `timeout`: a client that announced more than
// it sends is cut off instead of holding its thread forever.
class ParserBody final : public BodySource {
 public:
  static constexpr size_t kLargeBodyBuffer = 256 << 10;

  ParserBody(Transport& transport, BeastStream& stream, boost::beast::flat_buffer& buffer,
             Parser& parser, std::chrono::milliseconds timeout)
      : transport_(transport), stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout) {}

  bool has_body() const override { return !parser_.is_done(); }
  void set_response(ResponseWriter* response) { response_ = response; }

  Result<size_t> read(char* out, size_t capacity) override {
    // Beast receives at most the buffer's free capacity at a time (64 KiB at the most), which
    // after the headers is a few KiB: a large upload (load, import, a build context) would take
    // that many reads. The room is given back after the request (serve_requests).
    if (buffer_.capacity() < kLargeBodyBuffer &&
        (parser_.chunked() || parser_.content_length_remaining().value_or(0) > kLargeBodyBuffer)) {
      buffer_.reserve(kLargeBodyBuffer);
    }
    while (!parser_.is_done()) {
      parser_.get().body().data = out;
      parser_.get().body().size = capacity;
      boost::system::error_code ec;
      transport_.set_read_deadline(std::chrono::steady_clock::now() + timeout_);
      http::read(stream_, buffer_, parser_, ec);
      transport_.clear_read_deadline();
      if (ec == http::error::need_buffer) ec = {};
      if (ec == net::error::timed_out) {
        failed_ = true;
        std::string message = "read request body: the client sent nothing for " +
                              std::to_string(timeout_.count() / 1000) +
                              " s (api-body-timeout in daemon.json)";
        // The client stalled, not the handler: it gets 408 whatever the handler answers next.
        if (response_ != nullptr) response_->send(408, json_error_body(message), "application/json");
        return make_error(ErrorCode::kDeadlineExceeded, message);
      }
      if (ec) {
        failed_ = true;
        return make_error(ErrorCode::kInvalidArgument, "read request body: " + ec.message());
      }
      size_t n = capacity - parser_.get().body().size;
      if (n > 0) return n;
    }
    return size_t{0};
  }

  // Reads and drops whatever the handler left, so the next request can be parsed.
  bool drain() {
    if (failed_) return false;
    char scratch[16384];
    size_t total = 0;
    while (!parser_.is_done()) {
      auto n = read(scratch, sizeof scratch);
      if (!n) return false;
      total += *n;
      if (total > (64u << 20)) return false;  // not worth reading: close instead
    }
    return true;
  }

 private:
  Transport& transport_;
  BeastStream& stream_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
  std::chrono::milliseconds timeout_;
  ResponseWriter* response_ = nullptr;
  bool failed_ = false;
};

// A whole answer written before any handler ran (refusals of the connection or its request).
void send_plain_error(Transport& transport, int status, std::string_view reason,
                      std::string_view message) {
  std::string text = json_error_body(message);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(text.size()) + "\r\n\r\n" + text;
  (void)transport.write_all(out.data(), out.size());
}

// "1.41" → 141; malformed → -1.
int version_number(std::string_view v) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= v.size()) return -1;
  int major = 0, minor = 0;
  for (size_t i = 0; i < dot; ++i) {
    if (v[i] < '0' || v[i] > '9' || major > 1000) return -1;
    major = major * 10 + (v[i] - '0');
  }
  for (size_t i = dot + 1; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9' || minor > 1000) return -1;
    minor = minor * 10 + (v[i] - '0');
  }
  return major * 1000 + minor;
}

// Splits "/v1.41/images/json" into ("1.41", "/images/json").
bool strip_version(std::string& path, std::string& version) {
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return false;
  size_t end = path.find('/', 2);
  std::string_view candidate(path.data() + 2, (end == std::string::npos ? path.size() : end) - 2);
  if (version_number(candidate) < 0) return false;
  version = std::string(candidate);
  path = end == std::string::npos ? "/" : path.substr(end);
  return true;
}

Result<UniqueFd> listen_unix(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(ErrorCode::kInvalidArgument, "socket path " + path + " is too long");
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("create unix socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(ErrorCode::kFailedPrecondition,
                        path + " exists and is not a socket: remove it or choose another host");
    }
    // A socket file from a previous run: refuse only if something still answers on it.
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      return make_error(ErrorCode::kAlreadyExists,
                        "another daemon is listening on " + path + ": stop it or choose another host");
    }
    ::unlink(path.c_str());
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return errno_error("bind " + path);
  }
  // Only root (the socket's owner) may talk to the daemon: access is root on the host.
  ::chmod(path.c_str(), 0660);
  if (::listen(fd.get(), 512) != 0) return errno_error("listen on " + path);
  return fd;
}

Result<UniqueFd> listen_tcp(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return make_error(ErrorCode::kInvalidArgument, "tcp address " + address + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
  UniqueFd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("create tcp socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), res->ai_addr, res->ai_addrlen) != 0) return errno_error("bind " + address);
  if (::listen(fd.get(), 512) != 0) return errno_error("listen on " + address);
  return fd;
}

// One request's driver-call context. Cancelled when the client hung up for good; a half-close
// is not a hang-up (docker's attach half-closes when it has no more stdin and still reads).
class RequestContext final : public sdk::Context {
 public:
  RequestContext(std::string request_id, Transport& transport)
      : sdk::Context(std::move(request_id)), transport_(&transport) {}
  [[nodiscard]] bool cancelled() const noexcept override { return transport_->peer_hung_up(); }

 private:
  Transport* transport_;
};

}  // namespace

bool is_loopback_tcp_host(std::string_view host) {
  if (host.rfind("tcp://", 0) == 0) host.remove_prefix(6);
  std::string_view name = host.substr(0, host.rfind(':'));
  return name == "localhost" || name == "[::1]" || name.rfind("127.", 0) == 0;
}

Server::Server(const Router& router, ServerLimits limits) : router_(router), limits_(limits) {}

Server::~Server() { stop(); }

Status Server::listen(const std::vector<std::string>& hosts, const TlsSettings& tls) {
  for (const auto& host : hosts) {
    auto listener = std::make_unique<Listener>();
    listener->address = host;
    if (host.rfind("unix://", 0) == 0) {
      listener->unix_socket = true;
      listener->path = host.substr(7);
      auto fd = listen_unix(listener->path);
      if (!fd) return fd.error();
      listener->fd = std::move(*fd);
    } else if (host.rfind("tcp://", 0) == 0) {
      std::string address = host.substr(6);
      if (tls.enabled || tls.verify) {
        if (!tls_) {
          auto ctx = TlsContext::create(tls);
          if (!ctx) return ctx.error();
          tls_ = std::move(*ctx);
        }
        listener->tls = true;
      }
      auto fd = listen_tcp(address);
      if (!fd) return fd.error();
      listener->fd = std::move(*fd);
    } else if (host == "fd://") {
      // Sockets systemd opened (berthd.socket): taken as they are, never unlinked on stop.
      auto fds = systemd::take_listen_fds();
      if (!fds) return fds.error();
      if (fds->empty()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "host fd:// needs sockets from systemd socket activation (LISTEN_FDS); "
                          "start berthd through berthd.socket, or use unix:///run/berth.sock");
      }
      for (int fd : *fds) {
        auto inherited = std::make_unique<Listener>();
        inherited->address = "fd://" + std::to_string(fd);
        inherited->fd = UniqueFd(fd);
        inherited->inherited = true;
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        inherited->unix_socket = ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
                                 addr.ss_family == AF_UNIX;
        listeners_.push_back(std::move(inherited));
      }
      continue;
    } else {
      return make_error(ErrorCode::kInvalidArgument, "unsupported host " + host);
    }
    listeners_.push_back(std::move(listener));
  }
  return {};
}

namespace {

// Wakes an accept() blocked on an inherited socket by connecting to it: shutting the socket down
// instead would also shut systemd's copy, and the next activation would find it refusing.
void wake_accept(int listen_fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() >= 0) (void)::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len);
}

}  // namespace

void Server::start() {
  for (auto& l : listeners_) {
    accept_threads_.emplace_back([this, l = l.get()] { accept_loop(l); });
  }
}

void Server::accept_loop(Listener* listener) {
  auto log = logging::get("api");
  log->info("API listening on {}", listener->address);
  while (!stopping_) {
    int fd = ::accept4(listener->fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) break;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        log->warn("accept on {}: too many open files; retrying", listener->address);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (stopping_ || errno == EINVAL || errno == EBADF) break;
      log->error("accept on {}: {}", listener->address, std::strerror(errno));
      continue;
    }
    UniqueFd client(fd);
    std::string peer;
    if (listener->unix_socket) {
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        peer = "pid=" + std::to_string(cred.pid) + " uid=" + std::to_string(cred.uid);
      }
    } else {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
    }
    std::shared_ptr<Transport> transport;
    if (listener->tls) {
      // The handshake runs on the connection's own thread, not here.
      transport = std::make_shared<PendingTlsTransport>(std::move(client), *tls_);
    } else {
      transport = std::make_shared<FdTransport>(std::move(client), std::move(peer));
    }
    admit(listener, std::move(transport));
  }
}

void Server::admit(Listener* listener, std::shared_ptr<Transport> transport) {
  auto log = logging::get("api");
  // A refusal is written from this thread: it must never wait on the client.
  auto refuse = [&](const std::string& message) {
    if (listener->tls) return;  // no words can reach a client before its handshake
    timeval tv{0, 200000};
    ::setsockopt(transport->fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    send_plain_error(*transport, 503, "Service Unavailable", message);
  };
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (connections_.size() >= limits_.max_connections) {
      log->warn("refused a connection on {}: {} connections are open (api-max-connections)",
                listener->address, connections_.size());
      refuse("too many connections: berthd serves at most " +
             std::to_string(limits_.max_connections) +
             " at once (api-max-connections in daemon.json); retry later");
      return;
    }
    connections_.insert(transport);
  }
  try {
    std::thread([this, transport] { serve(transport); }).detach();
  } catch (const std::exception& e) {  // std::system_error: no thread to be had
    log->error("refused a connection on {}: cannot start its thread: {}", listener->address,
               e.what());
    forget(transport);
    refuse(std::string("berthd cannot start a thread for this connection (") + e.what() +
           "); retry later");
  }
}

void Server::forget(const std::shared_ptr<Transport>& transport) {
  std::lock_guard lock(mutex_);
  connections_.erase(transport);
  idle_.notify_all();
}

void Server::serve(const std::shared_ptr<Transport>& transport) {
  // Nothing may leave a connection's thread: an exception there would end the whole daemon.
  try {
    serve_requests(*transport);
  } catch (const std::exception& e) {
    logging::get("api")->error("connection {}: {}; closed", transport->peer(), e.what());
  } catch (...) {
    logging::get("api")->error("connection {}: unknown exception; closed", transport->peer());
  }
  transport->shutdown_both();
  forget(transport);
}

void Server::serve_requests(Transport& transport) {
  auto log = logging::get("api");
  if (auto* pending = dynamic_cast<PendingTlsTransport*>(&transport)) {
    transport.set_read_deadline(std::chrono::steady_clock::now() + limits_.header_timeout);
    auto s = pending->handshake();
    transport.clear_read_deadline();
    if (!s) {
      log->warn("TLS handshake failed: {}", s.error().message);
      return;
    }
  }
  BeastStream stream(transport);
  boost::beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    // Between requests a keep-alive connection may idle; once a request starts, its headers
    // must all arrive within the header timeout.
    if (buffer.size() == 0 && !transport.wait_readable(first ? limits_.header_timeout
                                                             : limits_.idle_timeout)) {
      if (first) send_plain_error(transport, 408, "Request Timeout", "no request in time");
      return;
    }
    Parser parser;
    parser.header_limit(256 * 1024);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    boost::system::error_code ec;
    transport.set_read_deadline(std::chrono::steady_clock::now() + limits_.header_timeout);
    try {
      http::read_header(stream, buffer, parser, ec);
    } catch (const std::length_error&) {
      // Beast's field storage refuses a name or value of 64 KiB or more by throwing.
      ec = http::error::header_limit;
    }
    transport.clear_read_deadline();
    if (ec) {
      if (stopping_ || ec == net::error::eof || ec == http::error::end_of_stream) return;
      if (ec == http::error::header_limit) {
        send_plain_error(transport, 431, "Request Header Fields Too Large",
                         "request header fields too large: a header line is limited to 64 KiB "
                         "and all of them to 256 KiB");
      } else if (ec == net::error::timed_out) {
        send_plain_error(transport, 408, "Request Timeout",
                         "the request's headers did not arrive within " +
                             std::to_string(limits_.header_timeout.count() / 1000) +
                             " s (api-header-timeout in daemon.json)");
      } else {
        send_plain_error(transport, 400, "Bad Request", "malformed HTTP request");
      }
      return;
    }
    auto& msg = parser.get();
    auto started = std::chrono::steady_clock::now();

    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.request_id = std::to_string(next_request_id_++);
    req.context = std::make_shared<RequestContext>(req.request_id, transport);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(field.value());
    }
    std::string_view target = req.target;
    size_t qmark = target.find('?');
    req.path = percent_decode(target.substr(0, qmark), false);
    if (qmark != std::string_view::npos) req.query = parse_query(target.substr(qmark + 1));
    req.versioned = strip_version(req.path, req.api_version);
    if (!req.versioned) req.api_version = std::string(kApiVersion);

    ParserBody body(transport, stream, buffer, parser, limits_.body_timeout);
    req.body_source = &body;
    bool keep_alive = msg.keep_alive() && !stopping_;
    ResponseWriter res(transport, req.method == "HEAD", keep_alive);
    body.set_response(&res);

    int v = version_number(req.api_version);
    if (req.versioned && v > version_number(kApiVersion)) {
      res.send_error(400, "client version " + req.api_version +
                              " is too new. Maximum supported API version is " +
                              std::string(kApiVersion));
    } else if (req.versioned && v < version_number(kMinApiVersion)) {
      res.send_error(400, "client version " + req.api_version +
                              " is too old. Minimum supported API version is " +
                              std::string(kMinApiVersion) +
                              ", please upgrade your client to a newer version");
    } else {
      std::string method = req.method == "HEAD" ? "HEAD" : req.method;
      const Handler* handler = router_.match(method, req.path, req.params);
      if (handler == nullptr && req.method == "HEAD") handler = router_.match("GET", req.path, req.params);
      if (handler == nullptr) {
        res.send_error(404, "page not found");
      } else if (auto bad = req.check_bool_params(); !bad) {
        res.send_error(bad.error());
      } else {
        // Bytes pipelined after the request headers belong to a hijacked stream (stdin).
        if (!body.has_body() && buffer.size() > 0) {
          auto data = buffer.data();
          res.set_leftover(std::string(static_cast<const char*>(data.data()), data.size()));
        }
        try {
          (*handler)(req, res);
        } catch (const std::exception& e) {
          log->error("request {} {} {}: handler threw: {}", req.request_id, req.method, req.path, e.what());
          if (!res.started()) res.send_error(500, "internal error: the request could not be completed");
        }
        if (!res.started()) res.send_error(500, "handler sent no response");
      }
    }
    if (log->should_log(spdlog::level::debug)) {
      auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      log->debug("req={} {} {} status={} ms={:.2f}", req.request_id, req.method, req.target, res.status(), ms);
    }
    if (res.hijacked() || res.must_close() || res.streaming()) return;
    if (!body.drain()) return;
    if (stopping_) return;
    // A keep-alive connection idles with a small buffer, whatever its last upload needed.
    if (buffer.size() == 0 && buffer.capacity() > 64 * 1024) buffer.shrink_to_fit();
  }
}

size_t Server::connection_count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  for (auto& l : listeners_) {
    if (l->inherited) {
      wake_accept(l->fd.get());
    } else {
      ::shutdown(l->fd.get(), SHUT_RDWR);
    }
  }
  for (auto& t : accept_threads_) {
    if (t.joinable()) t.join();
  }
  {
    std::unique_lock lock(mutex_);
    for (const auto& c : connections_) c->shutdown_both();
    // Handlers blocked on a container or a stream see their socket closed and return.
    idle_.wait_for(lock, std::chrono::seconds(10), [this] { return connections_.empty(); });
  }
  for (auto& l : listeners_) {
    if (l->unix_socket && !l->inherited) ::unlink(l->path.c_str());
    l->fd.reset();
  }
}

}  // namespace berth::core::api
