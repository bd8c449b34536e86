#include "cli/client/api_client.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/parse.hpp>
#include <cstdio>

#include <sys/socket.h>

#include "cli/client/tls_relay.hpp"
#include "cli/util/strings.hpp"

namespace berth::cli {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr const char* kUserAgent = "Berth-Client/" BERTH_CLI_VERSION " (linux)";

int parse_minor(const std::string& v, int* major) {
  bool found = false;
  auto [a, b] = split_once(v, '.', &found);
  *major = std::atoi(a.c_str());
  return found ? std::atoi(b.c_str()) : 0;
}

std::string status_text(int status) {
  return std::string(http::obsolete_reason(static_cast<http::status>(status)));
}

}  // namespace

int compare_api_versions(const std::string& a, const std::string& b) {
  int amaj = 0, bmaj = 0;
  int amin = parse_minor(a, &amaj), bmin = parse_minor(b, &bmaj);
  if (amaj != bmaj) return amaj < bmaj ? -1 : 1;
  if (amin != bmin) return amin < bmin ? -1 : 1;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Response

Response::Response(ApiClient* client, std::unique_ptr<Connection> conn, bool head)
    : client_(client), conn_(std::move(conn)) {
  fd_ = conn_->native_handle();
  parser_ = std::make_unique<http::response_parser<http::buffer_body>>();
  parser_->body_limit(boost::none);
  parser_->header_limit(1 << 20);
  if (head) parser_->skip(true);
  read_headers();
}

Response::~Response() {
  if (!conn_) return;
  if (done_ && parser_ && parser_->keep_alive())
    client_->release(std::move(conn_));
  else
    conn_->close();
}

void Response::read_headers() {
  boost::system::error_code ec;
  http::read_header(*conn_, conn_->buffer(), *parser_, ec);
  if (ec) {
    const Endpoint& ep = client_->endpoint();
    if (ep.address.kind == Address::Kind::kTcp && !ep.tls.enabled &&
        (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
         ec.category() == http::make_error_code(http::error::end_of_stream).category()))
      // A TLS daemon closes (or answers with an alert) when it gets clear-text HTTP.
      throw ConnectError("berth: " + ep.address.original + " closed the connection without an HTTP "
                         "answer (" + ec.message() + "). If the daemon serves TLS there (port " +
                         Address::kDefaultTlsPort + " usually does), add --tlsverify and its "
                         "certificates (--tlscacert, --tlscert, --tlskey or BERTH_CERT_PATH).", true);
    throw conn_->failure("reading response headers", ec);
  }
  auto& msg = parser_->get();
  status_ = static_cast<int>(msg.result_int());
  for (auto& field : msg) headers_[to_lower(std::string(field.name_string()))] =
      std::string(field.value());
  done_ = parser_->is_done();
}

std::string Response::header(const std::string& name) const {
  auto it = headers_.find(to_lower(name));
  return it == headers_.end() ? "" : it->second;
}

bool Response::read_some(std::string& out) {
  constexpr size_t kRead = 64 * 1024;
  // Beast receives at most the buffer's free capacity at a time; after the headers that is a
  // few KiB, which made a 200 MB save tens of thousands of reads.
  if (conn_ && conn_->buffer().capacity() < kRead) conn_->buffer().reserve(kRead);
  while (!done_) {
    char buf[kRead];
    auto& body = parser_->get().body();
    body.data = buf;
    body.size = sizeof buf;
    boost::system::error_code ec;
    http::read_some(*conn_, conn_->buffer(), *parser_, ec);
    if (ec == http::error::need_buffer) ec = {};
    size_t n = sizeof buf - body.size;
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof) {
      // Body delimited by connection close, or the daemon went away mid-stream.
      done_ = true;
      parser_.reset();
      conn_->close();
      conn_.reset();
      if (n) out.append(buf, n);
      return n > 0;
    }
    if (ec) throw conn_->failure("reading response", ec);
    done_ = parser_->is_done();
    if (n) {
      out.append(buf, n);
      return true;
    }
  }
  return false;
}

std::string Response::read_all() {
  std::string out;
  while (read_some(out)) {
  }
  return out;
}

std::unique_ptr<Connection> Response::take_connection(std::string& leftover) {
  auto& buf = conn_->buffer();
  auto data = buf.data();
  leftover.assign(static_cast<const char*>(data.data()), data.size());
  buf.consume(buf.size());
  parser_.reset();
  return std::move(conn_);
}

void Response::interrupt() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Response::abandon() {
  if (conn_) {
    conn_->close();
    conn_.reset();
  }
}

// ---------------------------------------------------------------------------------------------
// ApiClient

ApiClient::ApiClient(Endpoint endpoint) : dialer_(std::move(endpoint)) {}

std::string ApiClient::unreachable_message(const ConnectError* error) const {
  if (error && error->self_explanatory()) return error->what();
  return "cannot reach berthd at " + address().original + ": is it running?";
}

std::unique_ptr<Connection> ApiClient::acquire(bool* reused) {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      *reused = true;
      return c;
    }
  }
  *reused = false;
  return dialer_.dial();
}

void ApiClient::release(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
}

void ApiClient::ping() {
  // Docker's habit: HEAD first; any status but 200/500 (e.g. 404/405) retries with GET.
  Request req{.method = "HEAD", .path = "/_ping", .versioned = false};
  std::optional<Response> resp(dispatch(req, false));
  if (resp->status() != 200 && resp->status() != 500) {
    resp->abandon();
    resp.reset();
    req.method = "GET";
    resp.emplace(dispatch(req, false));
    resp->read_all();
  }
  for (const char* h : {"api-version", "server", "ostype", "builder-version", "swarm",
                        "docker-experimental"}) {
    auto v = resp->header(h);
    if (!v.empty()) ping_headers_[h] = v;
  }
  std::string server = resp->header("api-version");
  if (server.empty())
    version_ = kFallbackApiVersion;
  else
    version_ = compare_api_versions(server, kMaxApiVersion) < 0 ? server : kMaxApiVersion;
}

std::string ApiClient::api_version() {
  std::lock_guard lock(ping_mu_);  // one ping per process, even with concurrent requests
  if (!pinged_) {
    ping();
    pinged_ = true;
  }
  return version_;
}

const std::map<std::string, std::string>& ApiClient::ping_headers() {
  api_version();
  return ping_headers_;
}

std::string ApiClient::server_os() {
  auto& h = ping_headers();
  if (auto it = h.find("server"); it != h.end()) {
    auto open = it->second.rfind('('), close = it->second.rfind(')');
    if (open != std::string::npos && close != std::string::npos && close > open)
      return it->second.substr(open + 1, close - open - 1);
  }
  if (auto it = h.find("ostype"); it != h.end()) return it->second;
  return "";
}

std::string ApiClient::target(const Request& req) {
  std::string t = req.versioned ? "/v" + api_version() + req.path : req.path;
  if (!req.query.empty()) t += "?" + req.query.encode();
  return t;
}

Response ApiClient::dispatch(const Request& req, bool hijack) {
  std::string tgt = target(req);
  std::string head = req.method + " " + tgt + " HTTP/1.1\r\n";
  head += "Host: api.moby.localhost\r\n";
  head += std::string("User-Agent: ") + kUserAgent + "\r\n";
  for (auto& [k, v] : req.headers) head += k + ": " + v + "\r\n";
  if (hijack) head += "Connection: Upgrade\r\nUpgrade: tcp\r\n";
  std::string ctype = req.content_type;
  if (ctype.empty() && req.body) ctype = "application/json";
  if (ctype.empty() && (req.upload || hijack)) ctype = "text/plain";
  if (!ctype.empty()) head += "Content-Type: " + ctype + "\r\n";
  if (req.upload) {
    head += "Transfer-Encoding: chunked\r\n";
  } else if (req.body) {
    head += "Content-Length: " + std::to_string(req.body->size()) + "\r\n";
  } else if (req.method == "POST" || req.method == "PUT") {
    head += "Content-Length: 0\r\n";
  }
  head += "\r\n";

  // Pooled keep-alive connections may have been closed by the daemon meanwhile: retry once on a
  // fresh connection when a reused one fails before any answer. A fresh one failing is the
  // answer (a second ssh login or TLS handshake would fail the same way). Streamed uploads,
  // which cannot be replayed, and hijacks always get a fresh connection.
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    std::unique_ptr<Connection> conn =
        (req.upload || hijack || attempt > 0) ? dialer_.dial() : acquire(&reused);
    try {
      if (req.upload) {
        conn->write_all(head);
        std::vector<char> buf(32 * 1024);
        while (true) {
          size_t n = req.upload(buf.data(), buf.size());
          if (n == 0) break;
          char size_line[32];
          int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
          conn->write_all(std::string_view(size_line, len));
          conn->write_all(std::string_view(buf.data(), n));
          conn->write_all("\r\n");
        }
        conn->write_all("0\r\n\r\n");
      } else {
        conn->write_all(req.body ? head + *req.body : head);
      }
      return Response(this, std::move(conn), req.method == "HEAD");
    } catch (const ConnectError&) {
      if (!reused) throw;
    } catch (const boost::system::system_error& e) {
      if (!reused) throw ConnectError(e.what());
    }
  }
}

void ApiClient::throw_api_error(Response& resp, const std::string& url) {
  std::string body = resp.read_all();
  if (body.size() > (1u << 20)) body.resize(1u << 20);
  int status = resp.status();
  std::string message;
  if (body.empty()) {
    std::string msg = "request returned " + status_text(status) + " for API route and version " +
                      url + ", check if the server supports the requested API version";
    throw ApiError(status, msg, msg);
  }
  if (resp.header("content-type") == "application/json") {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec && v.is_object()) {
      auto* m = v.as_object().if_contains("message");
      if (m && m->is_string() && !m->as_string().empty()) {
        message = std::string(m->as_string());
      } else {
        std::string msg = "API returned a " + std::to_string(status) + " (" + status_text(status) +
                          ") but provided no error-message";
        throw ApiError(status, msg, msg);
      }
    } else {
      message = trim(body);
    }
  } else {
    message = trim(body);
  }
  throw ApiError(status, message, "Error response from daemon: " + message);
}

Response ApiClient::send_raw(const Request& req) { return dispatch(req, false); }

Response ApiClient::send(const Request& req) {
  Response resp = dispatch(req, false);
  if (resp.status() >= 400) throw_api_error(resp, target(req));
  return resp;
}

std::string ApiClient::call(const Request& req) { return send(req).read_all(); }

json::value ApiClient::call_json(const Request& req) {
  std::string body = call(req);
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) throw std::runtime_error("invalid JSON from daemon: " + ec.message());
  return v;
}

json::value ApiClient::get_json(const std::string& path, const Query& q) {
  return call_json(Request{.method = "GET", .path = path, .query = q});
}

Hijacked ApiClient::hijack(const Request& req) {
  Response resp = dispatch(req, true);
  if (resp.status() >= 400) throw_api_error(resp, target(req));
  if (resp.status() != 101) {
    throw std::runtime_error("unable to upgrade to tcp, received " +
                             std::to_string(resp.status()));
  }
  Hijacked h;
  h.conn = resp.take_connection(h.leftover);
  // The hijack pump works on a plain descriptor; a TLS session gets a relay in front of it.
  if (h.conn->is_tls()) h.conn = relay_hijacked_tls(std::move(h.conn));
  return h;
}

}  // namespace berth::cli
