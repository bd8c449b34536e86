// The HTTP/1.1 server under berth-registry: Boost.Beast on an Asio io_context run by a few
// threads, one C++20 coroutine per connection, keep-alive, bodies streamed to the handler
// (never buffered whole unless the handler asks), file bodies sent with sendfile(2).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/common/result.hpp"
#include "registry/http_exchange.hpp"

namespace berth::registry {

// What the server reports after each request (access log, metrics).
struct AccessRecord {
  std::string method;
  std::string path;
  std::string remote;
  std::string user;
  unsigned status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::chrono::microseconds duration{0};
};

struct HttpServerLimits {
  std::chrono::seconds header_timeout{60};
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds body_timeout{120};
  // Threads for file writes, fsync and hashing of uploads (Exchange::stream_body_to_disk).
  unsigned file_threads = 4;
};

struct TlsFiles {
  std::string cert;       // PEM certificate chain
  std::string key;        // PEM private key
  std::string client_ca;  // when set, clients must present a certificate signed by it
};

class HttpServer {
 public:
  using Handler = std::function<Task<Response>(Exchange&)>;
  using Observer = std::function<void(const AccessRecord&)>;

  HttpServer(boost::asio::io_context& io, Handler handler, Observer observer,
             HttpServerLimits limits = {});
  ~HttpServer();

  // Binds "host:port" ("127.0.0.1:5000", "[::1]:5000", ":5000" for every address; port 0 picks
  // one). Returns the bound port.
  Result<uint16_t> listen(const std::string& address);
  // Serve TLS (before start()); errors name the file at fault.
  Status enable_tls(const TlsFiles& files);
  // Starts accepting (coroutines on the io_context).
  void start();
  // Stops accepting; requests in flight finish, and connections close after their answer.
  void stop_accepting();
  // Requests being handled or answered right now.
  size_t requests_in_flight() const { return in_flight_->load(); }

 private:
  struct State;
  Task<void> accept_loop();
  Task<void> session(boost::asio::ip::tcp::socket socket);
  template <class Stream>
  Task<void> serve_connection(Stream& stream, const std::string& remote);

  boost::asio::io_context& io_;
  Handler handler_;
  Observer observer_;
  HttpServerLimits limits_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  boost::asio::thread_pool file_io_;
  std::shared_ptr<std::atomic<size_t>> in_flight_ = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<bool> stopping_{false};
};

// "127.0.0.1:5000" → {"127.0.0.1", 5000}; errors name the bad part.
Result<std::pair<std::string, uint16_t>> split_listen_address(const std::string& address);

}  // namespace berth::registry
