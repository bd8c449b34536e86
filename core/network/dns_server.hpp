// The embedded DNS resolver containers on user-defined networks reach at 127.0.0.11:53 (as in
// docker). No process of its own and no iptables redirect: berthd binds a UDP and a TCP socket
// on 127.0.0.11:53 inside each container's network namespace (a socket stays in the namespace it
// was made in) and serves them all from one epoll thread. Names of the container's networks are
// answered here (A, PTR); everything else is forwarded to the upstream resolvers over UDP from
// berthd's own namespace, without blocking the loop (pending queries keyed by a fresh id).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/common/result.hpp"

namespace berth::core::network {

class DnsServer {
 public:
  struct Resolver {
    // Addresses of `name` as seen by container `cid` (empty: not a name of its networks).
    std::function<std::vector<uint32_t>(const std::string& cid, const std::string& name)> lookup;
    // The name of `ip` on cid's networks.
    std::function<std::optional<std::string>(const std::string& cid, uint32_t ip)> reverse;
  };
  // upstreams: "a.b.c.d" or "a.b.c.d:port".
  static Result<std::unique_ptr<DnsServer>> start(const std::vector<std::string>& upstreams, Resolver resolver);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Binds 127.0.0.11:53 (UDP and TCP) in the namespace at netns_path for container cid.
  Status add(const std::string& cid, const std::string& netns_path);
  void remove(const std::string& cid);

  struct Counters {
    uint64_t answered = 0, forwarded = 0, failed = 0;
  };
  Counters counters() const;

 private:
  DnsServer() = default;
  void loop();
  void on_udp(int fd, const std::string& cid);
  void on_tcp(int listen_fd, const std::string& cid);
  void on_upstream();
  void expire_pending();
  // The local answer, or nullopt when the query must be forwarded.
  std::optional<std::string> answer_locally(const std::string& cid, const std::string& query);
  std::optional<std::string> forward_blocking(const std::string& query);

  struct Pending {
    int client_fd;
    sockaddr_in client;
    uint16_t client_id;
    std::string query;
    size_t upstream;
    std::chrono::steady_clock::time_point deadline;
  };
  struct Sockets {
    int udp = -1, tcp = -1;
  };

  Resolver resolver_;
  std::vector<sockaddr_in> upstreams_;
  int epoll_ = -1;
  int wake_ = -1;
  int upstream_fd_ = -1;
  mutable std::mutex mu_;  // sockets_, owners_, counters_
  std::map<std::string, Sockets> sockets_;  // by container id
  std::map<int, std::string> owners_;       // fd -> container id
  std::map<uint16_t, Pending> pending_;     // loop thread only
  uint16_t next_id_ = 1;
  Counters counters_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace berth::core::network
