#include "registry/http_server.hpp"

#include <sys/sendfile.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cerrno>

#include "core/common/logging.hpp"
#include "registry/url.hpp"

namespace berth::registry {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using namespace boost::asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

// A body the handler did not read is drained (so the client reads our answer instead of a
// reset) up to this much; beyond it the connection is closed.
constexpr uint64_t kMaxDrainBytes = 4 * 1024 * 1024;
constexpr size_t kBodyChunk = 256 * 1024;
constexpr auto kSendStallTimeout = std::chrono::seconds(120);

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
class BeastExchange final : public Exchange {
 public:
  BeastExchange(Stream& stream, beast::flat_buffer& buffer,
                http::request_parser<http::buffer_body>& parser, const HttpServerLimits& limits,
                asio::thread_pool& file_io)
      : stream_(stream), buffer_(buffer), parser_(parser), limits_(limits), file_io_(file_io) {}

  std::string header(std::string_view name) const override {
    auto it = parser_.get().find(beast::string_view(name.data(), name.size()));
    if (it == parser_.get().end()) return {};
    return std::string(it->value());
  }

  std::optional<uint64_t> content_length() const override {
    auto length = parser_.content_length();
    if (!length) return std::nullopt;
    return *length;
  }

  Task<Result<std::string>> read_body(size_t limit) override {
    std::string out;
    Status st = co_await stream_body([&](std::string_view piece) -> Status {
      if (out.size() + piece.size() > limit) {
        return make_error(ErrorCode::kResourceExhausted,
                          "request body is larger than " + std::to_string(limit) + " bytes");
      }
      out.append(piece);
      return {};
    });
    if (!st) co_return std::move(st).error();
    co_return out;
  }

  Task<Status> stream_body(std::function<Status(std::string_view)> sink) override {
    co_await send_continue();
    std::string chunk(kBodyChunk, '\0');
    for (;;) {
      size_t got = 0;
      if (Status st = co_await read_piece(chunk, got); !st) co_return st;
      if (got == 0) co_return Status{};
      if (Status st = sink(std::string_view(chunk.data(), got)); !st) co_return st;
    }
  }

  Task<Status> stream_body_to_disk(std::function<Status(std::string_view)> sink) override {
    co_await send_continue();
    // Two buffers: one is written by a file thread while the other is filled from the socket.
    std::string chunks[2] = {std::string(kBodyChunk, '\0'), std::string(kBodyChunk, '\0')};
    int filling = 0;
    std::optional<std::string_view> writing;
    for (;;) {
      size_t got = 0;
      Status read_status;
      if (writing) {
        auto [r, w] = co_await (read_piece(chunks[filling], got) && on_file_thread(sink, *writing));
        read_status = std::move(r);
        writing.reset();
        if (!w) co_return w;
      } else {
        read_status = co_await read_piece(chunks[filling], got);
      }
      if (!read_status) co_return read_status;
      if (got == 0) break;
      writing = std::string_view(chunks[filling].data(), got);
      filling ^= 1;
    }
    if (writing) co_return co_await on_file_thread(sink, *writing);
    co_return Status{};
  }

  Task<Status> run_blocking(std::function<Status()> work) override {
    co_return co_await asio::co_spawn(
        file_io_, [&work]() -> Task<Status> { co_return work(); }, use_awaitable);
  }

  // Discards what is left of the body; false when the connection cannot be reused.
  Task<bool> drain() {
    if (parser_.is_done()) co_return true;
    if (failed_) co_return false;
    // A client waiting for "100 Continue" that we never sent will not send its body.
    if (expects_continue() && !continue_sent_) co_return false;
    auto length = parser_.content_length_remaining();
    if (!length || *length > kMaxDrainBytes) co_return false;
    Status st = co_await stream_body([](std::string_view) -> Status { return {}; });
    co_return st.has_value();
  }

  uint64_t bytes_in = 0;

 private:
  bool expects_continue() const {
    auto value = header("Expect");
    return beast::iequals(value, "100-continue");
  }

  Task<void> send_continue() {
    if (continue_sent_ || !expects_continue()) co_return;
    continue_sent_ = true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()), kTuple);
  }

  // Reads the next piece of the body into `chunk` (as much as fits); `got` is 0 at its end.
  Task<Status> read_piece(std::string& chunk, size_t& got) {
    got = 0;
    while (!parser_.is_done()) {
      parser_.get().body().data = chunk.data();
      parser_.get().body().size = chunk.size();
      beast::get_lowest_layer(stream_).expires_after(limits_.body_timeout);
      auto [ec, n] = co_await http::async_read(stream_, buffer_, parser_, kTuple);
      (void)n;
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        failed_ = true;
        co_return make_error(ErrorCode::kUnavailable, "read request body: " + ec.message());
      }
      got = chunk.size() - parser_.get().body().size;
      bytes_in += got;
      if (got != 0) break;
    }
    co_return Status{};
  }

  Task<Status> on_file_thread(const std::function<Status(std::string_view)>& sink,
                              std::string_view piece) {
    co_return co_await asio::co_spawn(
        file_io_, [&sink, piece]() -> Task<Status> { co_return sink(piece); }, use_awaitable);
  }

  Stream& stream_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::buffer_body>& parser_;
  const HttpServerLimits& limits_;
  asio::thread_pool& file_io_;
  bool continue_sent_ = false;
  bool failed_ = false;
};

// Writes the file region with sendfile(2), waiting for the socket when its buffer is full.
Task<bool> send_file(tcp::socket& socket, int file_fd, int64_t offset, int64_t length) {
  socket.native_non_blocking(true);
  off_t off = offset;
  int64_t remaining = length;
  while (remaining > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(remaining, 1 << 30));
    ssize_t n = ::sendfile(socket.native_handle(), file_fd, &off, want);
    if (n > 0) {
      remaining -= n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A client that stops reading must not hold the connection for ever.
      asio::steady_timer stall(socket.get_executor());
      stall.expires_after(kSendStallTimeout);
      auto ready = co_await (socket.async_wait(tcp::socket::wait_write, kTuple) ||
                             stall.async_wait(kTuple));
      if (ready.index() == 1 || std::get<0>(std::get<0>(ready))) co_return false;
      continue;
    }
    co_return false;  // n == 0: the file shrank under us; error: the peer went away
  }
  co_return true;
}

// Without sendfile (TLS): the file region through the stream, 256 KiB at a time.
template <class Stream>
Task<bool> copy_file(Stream& stream, int file_fd, int64_t offset, int64_t length) {
  std::string chunk(kBodyChunk, '\0');
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(length, static_cast<int64_t>(chunk.size())));
    ssize_t n = ::pread(file_fd, chunk.data(), want, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) co_return false;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(300));
    auto [ec, written] = co_await asio::async_write(stream, asio::buffer(chunk.data(), static_cast<size_t>(n)), kTuple);
    (void)written;
    if (ec) co_return false;
    offset += n;
    length -= n;
  }
  co_return true;
}

template <class Stream>
Task<bool> write_response(Stream& stream, Response& res, bool keep_alive, uint64_t& bytes_out) {
  auto fill = [&](auto& message) {
    for (auto& [name, value] : res.headers) message.set(name, value);
    message.keep_alive(keep_alive);
  };
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(300));
  if (res.file.valid() || res.omit_body) {
    http::response<http::empty_body> message{static_cast<http::status>(res.status), 11};
    fill(message);
    message.content_length(static_cast<uint64_t>(res.content_length()));
    auto [ec, n] = co_await http::async_write(stream, message, kTuple);
    bytes_out += n;
    if (ec) co_return false;
    if (res.omit_body || !res.file.valid()) co_return true;
    bool sent = false;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream.expires_never();
      sent = co_await send_file(stream.socket(), res.file.get(), res.file_offset, res.file_length);
    } else {
      sent = co_await copy_file(stream, res.file.get(), res.file_offset, res.file_length);
    }
    if (sent) bytes_out += static_cast<uint64_t>(res.file_length);
    co_return sent;
  }
  http::response<http::string_body> message{static_cast<http::status>(res.status), 11};
  fill(message);
  message.body() = std::move(res.body);
  message.prepare_payload();
  auto [ec, n] = co_await http::async_write(stream, message, kTuple);
  bytes_out += n;
  co_return !ec;
}

Response plain_error(unsigned status, std::string text) {
  Response res;
  res.status = status;
  res.body = std::move(text);
  res.header("Content-Type", "text/plain; charset=utf-8");
  return res;
}

}  // namespace

Result<std::pair<std::string, uint16_t>> split_listen_address(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "listen address \"" + address + "\" has no port: use HOST:PORT");
  }
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  char* end = nullptr;
  unsigned long port = std::strtoul(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      "listen address \"" + address + "\" has a bad port: want 0 to 65535");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

HttpServer::HttpServer(asio::io_context& io, Handler handler, Observer observer,
                       HttpServerLimits limits)
    : io_(io), handler_(std::move(handler)), observer_(std::move(observer)), limits_(limits),
      file_io_(std::max(1u, limits.file_threads)) {}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen(const std::string& address) {
  auto split = split_listen_address(address);
  if (!split) return std::move(split).error();
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(split->first, ec);
  if (ec) {
    return make_error(ErrorCode::kInvalidArgument,
                      "listen address \"" + address + "\": \"" + split->first +
                          "\" is not an IP address");
  }
  tcp::endpoint endpoint(ip, split->second);
  auto acceptor = std::make_unique<tcp::acceptor>(io_);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(ErrorCode::kUnavailable, "listen on " + address + ": " + ec.message());
  uint16_t port = acceptor->local_endpoint().port();
  acceptor_ = std::move(acceptor);
  return port;
}

void HttpServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void HttpServer::stop_accepting() {
  stopping_ = true;
  asio::post(io_, [this] {
    boost::system::error_code ec;
    if (acceptor_) acceptor_->close(ec);
  });
}

Task<void> HttpServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(kTuple);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      logging::get("registry")->warn("accept: {}", ec.message());
      continue;
    }
    asio::co_spawn(io_, session(std::move(socket)), asio::detached);
  }
}

Status HttpServer::enable_tls(const TlsFiles& files) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  ctx->use_certificate_chain_file(files.cert, ec);
  if (ec) return make_error(ErrorCode::kInvalidArgument, "tls.cert " + files.cert + ": " + ec.message());
  ctx->use_private_key_file(files.key, asio::ssl::context::pem, ec);
  if (ec) return make_error(ErrorCode::kInvalidArgument, "tls.key " + files.key + ": " + ec.message());
  if (!files.client_ca.empty()) {
    ctx->load_verify_file(files.client_ca, ec);
    if (ec) {
      return make_error(ErrorCode::kInvalidArgument,
                        "tls.client_ca " + files.client_ca + ": " + ec.message());
    }
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  tls_ = std::move(ctx);
  return {};
}

Task<void> HttpServer::session(tcp::socket socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote;
  if (auto ep = socket.remote_endpoint(ignored); !ignored) remote = ep.address().to_string();
  if (!tls_) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve_connection(stream, remote);
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
    co_return;
  }
  TlsStream stream(beast::tcp_stream(std::move(socket)), *tls_);
  beast::get_lowest_layer(stream).expires_after(limits_.header_timeout);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (ec) co_return;  // not TLS, a refused client certificate, or gone
  co_await serve_connection(stream, remote);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await stream.async_shutdown(kTuple);
  beast::get_lowest_layer(stream).close();
}

template <class Stream>
Task<void> HttpServer::serve_connection(Stream& stream, const std::string& remote) {
  // Beast reads at most what the buffer can take next: a buffer grown only to a request header
  // made each body read 512 bytes (400,000 recvmsg for a 200 MB layer).
  beast::flat_buffer buffer;
  buffer.reserve(kBodyChunk);
  for (;;) {
    http::request_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // handlers bound what they read
    parser.header_limit(64 * 1024);
    beast::get_lowest_layer(stream).expires_after(limits_.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    (void)n;
    if (ec) break;
    auto started = std::chrono::steady_clock::now();
    in_flight_->fetch_add(1);
    // A request stops counting once its answer is written: a client that sends its next request
    // as soon as it reads the last one's answer must not find the slot still taken (the access
    // log line is written after the answer).
    struct InFlight {
      std::shared_ptr<std::atomic<size_t>> counter;
      void release() {
        if (counter) counter->fetch_sub(1);
        counter.reset();
      }
      ~InFlight() { release(); }
    } in_flight{in_flight_};

    BeastExchange<Stream> exchange(stream, buffer, parser, limits_, file_io_);
    const auto& req = parser.get();
    exchange.method = std::string(req.method_string());
    exchange.remote = remote;
    std::string_view target(req.target().data(), req.target().size());
    size_t question = target.find('?');
    auto decoded = url::decode_path(target.substr(0, question));
    if (question != std::string_view::npos) exchange.query = url::parse_query(target.substr(question + 1));

    Response res;
    if (!decoded) {
      res = plain_error(400, "malformed percent-escape in the request path\n");
    } else {
      exchange.path = std::move(*decoded);
      try {
        res = co_await handler_(exchange);
      } catch (const std::exception& e) {
        logging::get("registry")->error("{} {}: {}", exchange.method, exchange.path, e.what());
        res = plain_error(500, "internal error\n");
      }
    }
    if (exchange.method == "HEAD") res.omit_body = true;
    bool reusable = co_await exchange.drain();
    bool keep_alive = reusable && req.keep_alive() && !stopping_;
    uint64_t bytes_out = 0;
    bool written = co_await write_response(stream, res, keep_alive, bytes_out);
    in_flight.release();
    if (observer_) {
      AccessRecord record{exchange.method, exchange.path, remote, exchange.user, res.status,
                          exchange.bytes_in, bytes_out,
                          std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - started)};
      observer_(record);
    }
    if (!written || !keep_alive) break;
  }
}

}  // namespace berth::registry
