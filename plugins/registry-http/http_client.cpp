#include "http_client.hpp"

#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <optional>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace berth::plugins::registry_http {
namespace {

constexpr size_t kChunk = 256 << 10;

sdk::Error net_error(const Url& url, std::string_view step, const beast::error_code& ec) {
  auto code = ec == beast::error::timeout ? sdk::ErrorCode::kDeadlineExceeded
                                          : sdk::ErrorCode::kUnavailable;
  std::string what = ec == beast::error::timeout ? "timed out (no data moved)" : ec.message();
  return sdk::make_error(code, std::string(step) + " " + url.scheme + "://" + url.authority() +
                                   ": " + what);
}

bool path_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

}  // namespace

struct HttpClient::Connection {
  std::string key;
  asio::io_context io;
  std::unique_ptr<beast::tcp_stream> tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool used = false;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

  // Runs one asynchronous operation to completion on this connection's own io_context, so
  // every call has Beast's timeouts while the API stays synchronous for the transport.
  template <class Start>
  beast::error_code run(Start start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }
  template <class Op>
  beast::error_code on_stream(Op op) {
    if (tls) return op(*tls);
    return op(*tcp);
  }
};

// TLS contexts per authority: the system store plus certs.d/<authority>/ (ca.crt, *.crt as CAs,
// client.cert + client.key as the client certificate), as Docker reads them.
struct HttpClient::Tls {
  std::string certs_dir;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<asio::ssl::context>> contexts;

  sdk::Result<std::shared_ptr<asio::ssl::context>> context_for(const std::string& authority) {
    std::lock_guard lock(mutex);
    if (auto it = contexts.find(authority); it != contexts.end()) return it->second;
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    ctx->set_default_verify_paths();
    ctx->set_verify_mode(asio::ssl::verify_peer);
    std::filesystem::path dir = std::filesystem::path(certs_dir) / authority;
    boost::system::error_code ec;
    std::error_code fec;
    if (path_exists(dir)) {
      for (const auto& entry : std::filesystem::directory_iterator(dir, fec)) {
        auto name = entry.path().filename().string();
        if (name.size() > 4 && name.substr(name.size() - 4) == ".crt") {
          ctx->load_verify_file(entry.path().string(), ec);
          if (ec) {
            return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                                   "load CA " + entry.path().string() + ": " + ec.message());
          }
        }
      }
      auto cert = dir / "client.cert";
      auto key = dir / "client.key";
      if (path_exists(cert) != path_exists(key)) {
        return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                               "certs.d folder " + dir.string() +
                                   " has only one of client.cert and client.key: add the other");
      }
      if (path_exists(cert)) {
        ctx->use_certificate_chain_file(cert.string(), ec);
        if (!ec) ctx->use_private_key_file(key.string(), asio::ssl::context::pem, ec);
        if (ec) {
          return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                                 "load client certificate from " + dir.string() + ": " + ec.message());
        }
      }
    }
    contexts[authority] = ctx;
    return ctx;
  }
};

HttpClient::HttpClient(ClientOptions options)
    : options_(std::move(options)), tls_(std::make_unique<Tls>()) {
  tls_->certs_dir = options_.certs_dir;
}

HttpClient::~HttpClient() = default;

int64_t HttpClient::connections_opened() const { return opened_; }

sdk::Result<std::unique_ptr<HttpClient::Connection>> HttpClient::checkout(const Url& url,
                                                                          bool fresh) {
  std::string key = url.scheme + "://" + url.authority();
  if (!fresh) {
    std::lock_guard lock(mutex_);
    auto& list = idle_[key];
    if (!list.empty()) {
      auto c = std::move(list.back());
      list.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<Connection>();
  c->key = key;
  tcp::resolver resolver(c->io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) return net_error(url, "resolve", ec);
  c->tcp = std::make_unique<beast::tcp_stream>(c->io);
  if (url.scheme == "https") {
    // Contexts stay in tls_ for the client's lifetime, so the stream's reference stays valid.
    auto ctx = tls_->context_for(url.authority());
    if (!ctx) return ctx.error();
    c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*c->tcp), **ctx);
    c->tcp.reset();
  }
  c->lowest().expires_after(options_.connect_timeout);
  ec = c->run([&](auto handler) { c->lowest().async_connect(endpoints, handler); });
  if (ec) return net_error(url, "connect to", ec);
  c->lowest().socket().set_option(tcp::no_delay(true), ec);
  if (c->tls) {
    // SNI and host name verification (IP literals are checked against the certificate's IPs).
    SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str());
    c->tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
    c->lowest().expires_after(options_.connect_timeout);
    ec = c->run([&](auto handler) { c->tls->async_handshake(asio::ssl::stream_base::client, handler); });
    if (ec) return net_error(url, "TLS handshake with", ec);
  }
  {
    std::lock_guard lock(mutex_);
    ++opened_;
  }
  return c;
}

void HttpClient::checkin(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mutex_);
  auto& list = idle_[c->key];
  if (list.size() < options_.idle_per_host) list.push_back(std::move(c));
}

sdk::Result<HttpResponse> HttpClient::send(sdk::Context& ctx, const HttpRequest& request,
                                           const BodySink* sink, size_t max_buffered) {
  for (int attempt = 0;; ++attempt) {
    auto c = checkout(request.url, attempt > 0);
    if (!c) return c.error();
    bool reused = (*c)->used;
    bool reusable = false;
    bool nothing_received = false;
    auto r = exchange(ctx, **c, request, sink, max_buffered, reusable, nothing_received);
    if (r) {
      (*c)->used = true;
      if (reusable) checkin(std::move(*c));
      return r;
    }
    // A kept-alive connection the server closed in the meantime: once more on a new one.
    if (reused && nothing_received && request.body_source == nullptr && attempt == 0) continue;
    return r.error();
  }
}

sdk::Result<HttpResponse> HttpClient::exchange(sdk::Context& ctx, Connection& c,
                                               const HttpRequest& request, const BodySink* sink,
                                               size_t max_buffered, bool& reusable,
                                               bool& nothing_received) {
  const Url& url = request.url;
  auto verb = http::string_to_verb(request.method);
  beast::error_code ec;
  nothing_received = true;
  if (request.body_source == nullptr) {
    http::request<http::string_body> req{verb, url.target, 11};
    req.set(http::field::host, url.authority());
    req.set(http::field::user_agent, "berth/registry-http");
    for (const auto& [k, v] : request.headers) req.set(k, v);
    req.body() = request.body;
    if (!request.body.empty() || request.method == "PUT" || request.method == "POST" ||
        request.method == "PATCH") {
      req.prepare_payload();
    }
    c.lowest().expires_after(options_.stall_timeout);
    ec = c.on_stream([&](auto& s) { return c.run([&](auto h) { http::async_write(s, req, h); }); });
    if (ec) return net_error(url, "send request to", ec);
  } else {
    http::request<http::buffer_body> req{verb, url.target, 11};
    req.set(http::field::host, url.authority());
    req.set(http::field::user_agent, "berth/registry-http");
    for (const auto& [k, v] : request.headers) req.set(k, v);
    req.content_length(static_cast<uint64_t>(request.body_length));
    req.body().data = nullptr;
    req.body().more = true;
    http::request_serializer<http::buffer_body> sr{req};
    c.lowest().expires_after(options_.stall_timeout);
    ec = c.on_stream([&](auto& s) { return c.run([&](auto h) { http::async_write_header(s, sr, h); }); });
    if (ec) return net_error(url, "send request to", ec);
    std::vector<char> buf(kChunk);
    int64_t sent = 0;
    for (;;) {
      if (ctx.cancelled()) return sdk::make_error(sdk::ErrorCode::kCancelled, "upload cancelled");
      auto n = request.body_source->read(buf.data(), buf.size());
      if (!n) return n.error();
      if (*n == 0) break;
      sent += static_cast<int64_t>(*n);
      if (sent > request.body_length) {
        return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                               "upload body is longer than its declared size");
      }
      req.body().data = buf.data();
      req.body().size = *n;
      req.body().more = true;
      c.lowest().expires_after(options_.stall_timeout);
      ec = c.on_stream([&](auto& s) { return c.run([&](auto h) { http::async_write(s, sr, h); }); });
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return net_error(url, "upload to", ec);
    }
    if (sent != request.body_length) {
      return sdk::make_error(sdk::ErrorCode::kInvalidArgument,
                             "upload body ended after " + std::to_string(sent) + " of " +
                                 std::to_string(request.body_length) + " bytes");
    }
    req.body().data = nullptr;
    req.body().size = 0;
    req.body().more = false;
    c.lowest().expires_after(options_.stall_timeout);
    ec = c.on_stream([&](auto& s) { return c.run([&](auto h) { http::async_write(s, sr, h); }); });
    if (ec) return net_error(url, "upload to", ec);
  }

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  if (request.method == "HEAD") parser.skip(true);
  c.lowest().expires_after(options_.stall_timeout);
  ec = c.on_stream([&](auto& s) {
    return c.run([&](auto h) { http::async_read_header(s, c.buffer, parser, h); });
  });
  if (ec) return net_error(url, "read the answer of", ec);
  nothing_received = false;
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    std::string name(field.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(field.value());
  }
  bool to_sink = sink != nullptr && out.status >= 200 && out.status < 300;
  if (to_sink && request.on_headers) {
    if (auto s = request.on_headers(out); !s) return s.error();
  }
  std::vector<char> buf(kChunk);
  // Beast reads at most the buffer's free capacity per receive (64 KiB at the most): left at
  // what the headers needed, a 200 MB blob took tens of thousands of small reads, each arming
  // and cancelling the stall timer. Room for full-size reads makes them few.
  c.buffer.reserve(kChunk);
  while (!parser.is_done()) {
    if (ctx.cancelled()) return sdk::make_error(sdk::ErrorCode::kCancelled, "download cancelled");
    parser.get().body().data = buf.data();
    parser.get().body().size = buf.size();
    c.lowest().expires_after(options_.stall_timeout);
    ec = c.on_stream([&](auto& s) { return c.run([&](auto h) { http::async_read(s, c.buffer, parser, h); }); });
    if (ec == http::error::need_buffer) ec = {};
    size_t n = buf.size() - parser.get().body().size;
    if (n > 0) {
      std::string_view chunk(buf.data(), n);
      if (to_sink) {
        if (auto s = (*sink)(chunk); !s) return s.error();
      } else {
        if (out.body.size() + n > max_buffered) {
          return sdk::make_error(sdk::ErrorCode::kResourceExhausted,
                                 "answer of " + url.scheme + "://" + url.authority() +
                                     " is larger than " + std::to_string(max_buffered) + " bytes");
        }
        out.body.append(chunk);
      }
    }
    if (ec) return net_error(url, "read the answer of", ec);
  }
  reusable = parser.get().keep_alive();
  return out;
}

}  // namespace berth::plugins::registry_http
