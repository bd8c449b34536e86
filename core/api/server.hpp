// The API server: listens on unix sockets and TCP (optionally mutual TLS), one thread per
// connection (like dockerd's goroutine per connection: long waits, streams and hijacked attach
// sessions simply block their own thread), HTTP/1.1 keep-alive with chunked request bodies.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/api/router.hpp"
#include "core/api/transport.hpp"
#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"

namespace berth::core::api {

struct TlsSettings {
  bool enabled = false;  // serve TLS on tcp:// hosts
  bool verify = false;   // require client certificates signed by ca_cert (mutual TLS)
  std::string ca_cert, cert, key;
};

// Bounds on what one client may hold (daemon.json api-* keys). Hijacked and streaming requests
// (attach, exec, logs -f, events, wait) are never timed out: they are long on purpose.
struct ServerLimits {
  // From a connection's first byte... to the end of a request's headers (slow-header clients).
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  // A keep-alive connection waiting for its next request.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};
  // Between two reads of a request body (a Content-Length longer than what is sent).
  std::chrono::milliseconds body_timeout{std::chrono::seconds(60)};
  // Connections open at once; past it a client gets 503 at once.
  size_t max_connections = 2048;
};

class TlsContext;

// "tcp://127.0.0.1:2375" and the like (for the warning naming who can reach an open API).
bool is_loopback_tcp_host(std::string_view host);

class Server {
 public:
  explicit Server(const Router& router, ServerLimits limits = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every host ("unix:///run/berth.sock", "tcp://127.0.0.1:2376"). Nothing is accepted
  // until start(). A unix socket path in use by a live process is an error.
  Status listen(const std::vector<std::string>& hosts, const TlsSettings& tls);
  void start();
  // Stops accepting, closes every connection, waits for their threads, removes socket files.
  void stop();

  [[nodiscard]] size_t connection_count() const;

  // Serves one already-accepted connection on the calling thread until it ends (the fuzz
  // harness drives the whole request path through it; listeners use it for each connection).
  void serve_connection(const std::shared_ptr<Transport>& transport) {
    {
      std::lock_guard lock(mutex_);
      connections_.insert(transport);
    }
    serve(transport);
  }

 private:
  struct Listener {
    std::string address;
    UniqueFd fd;
    bool unix_socket = false;
    std::string path;  // unix socket file
    bool tls = false;
    bool inherited = false;  // from systemd socket activation (host "fd://")
  };
  void accept_loop(Listener* listener);
  // Adds a connection and starts its thread; refuses it with a 503 past max_connections or
  // when no thread can be had.
  void admit(Listener* listener, std::shared_ptr<Transport> transport);
  void serve(const std::shared_ptr<Transport>& transport);
  // The request loop of one connection; may throw (serve catches everything).
  void serve_requests(Transport& transport);
  void forget(const std::shared_ptr<Transport>& transport);

  const Router& router_;
  const ServerLimits limits_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::thread> accept_threads_;
  std::unique_ptr<TlsContext> tls_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_request_id_{1};
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::set<std::shared_ptr<Transport>> connections_;
};

}  // namespace berth::core::api
