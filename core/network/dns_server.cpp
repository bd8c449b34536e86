#include "core/network/dns_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/common/logging.hpp"
#include "core/network/dns_message.hpp"

namespace berth::core::network {
namespace {

constexpr auto kUpstreamTimeout = std::chrono::seconds(2);

Result<sockaddr_in> parse_upstream(const std::string& text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  std::string host = text;
  uint16_t port = 53;
  if (auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
  }
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    return make_error(ErrorCode::kInvalidArgument, "DNS upstream \"" + text + "\" is not an IPv4 address");
  }
  a.sin_port = htons(port);
  return a;
}

// Reads exactly n bytes from a blocking-with-timeout TCP client.
bool read_exact(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return false;
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<DnsServer>> DnsServer::start(const std::vector<std::string>& upstreams, Resolver resolver) {
  std::unique_ptr<DnsServer> s(new DnsServer());
  s->resolver_ = std::move(resolver);
  for (const auto& u : upstreams) {
    auto a = parse_upstream(u);
    if (!a) return a.error();
    s->upstreams_.push_back(*a);
  }
  s->epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  s->wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  s->upstream_fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->epoll_ < 0 || s->wake_ < 0 || s->upstream_fd_ < 0) return errno_error("DNS server setup");
  for (int fd : {s->wake_, s->upstream_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(s->epoll_, EPOLL_CTL_ADD, fd, &ev);
  }
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

DnsServer::~DnsServer() {
  stop_ = true;
  uint64_t one = 1;
  if (wake_ >= 0) (void)::write(wake_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  for (auto& [_, s] : sockets_) {
    ::close(s.udp);
    ::close(s.tcp);
  }
  for (int fd : {epoll_, wake_, upstream_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

Status DnsServer::add(const std::string& cid, const std::string& netns_path) {
  remove(cid);
  Sockets made;
  Status result;
  // Sockets belong to the namespace of the thread that makes them.
  std::thread worker([&] {
    int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
      result = errno_error("enter " + netns_path);
      if (ns >= 0) ::close(ns);
      return;
    }
    ::close(ns);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(0x7f00000b);  // 127.0.0.11
    made.udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    made.tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    ::setsockopt(made.tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (made.udp < 0 || made.tcp < 0 || ::bind(made.udp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::bind(made.tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(made.tcp, 64) != 0) {
      result = errno_error("bind 127.0.0.11:53 in " + netns_path);
    }
  });
  worker.join();
  if (!result) {
    if (made.udp >= 0) ::close(made.udp);
    if (made.tcp >= 0) ::close(made.tcp);
    return result;
  }
  int rcvbuf = 1 << 20;  // bursts of queries are queued, not dropped
  ::setsockopt(made.udp, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  std::lock_guard lock(mu_);
  for (int fd : {made.udp, made.tcp}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    owners_[fd] = cid;
  }
  sockets_[cid] = made;
  return {};
}

void DnsServer::remove(const std::string& cid) {
  std::lock_guard lock(mu_);
  auto it = sockets_.find(cid);
  if (it == sockets_.end()) return;
  for (int fd : {it->second.udp, it->second.tcp}) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    owners_.erase(fd);
    ::close(fd);
  }
  sockets_.erase(it);
}

DnsServer::Counters DnsServer::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::optional<std::string> DnsServer::answer_locally(const std::string& cid, const std::string& query) {
  auto q = dns::parse_query(query);
  if (!q) return std::nullopt;
  if (q->klass != 1) return std::nullopt;
  if (q->type == dns::kTypePtr) {
    if (auto ip = dns::reverse_name_ip(q->name)) {
      if (auto name = resolver_.reverse(cid, *ip)) return dns::answer_ptr(query, *q, *name);
    }
    return std::nullopt;
  }
  auto ips = resolver_.lookup(cid, q->name);
  if (ips.empty()) return std::nullopt;
  if (q->type == dns::kTypeA) return dns::answer_a(query, *q, ips);
  return dns::answer_empty(query, *q, dns::kNoError);  // a known name without such a record (AAAA)
}

void DnsServer::on_udp(int fd, const std::string& cid) {
  char buf[4096];
  for (int i = 0; i < 64; ++i) {  // drain a burst, then let other sockets run
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) return;
    std::string query(buf, static_cast<size_t>(n));
    if (auto answer = answer_locally(cid, query)) {
      ::sendto(fd, answer->data(), answer->size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      std::lock_guard lock(mu_);
      ++counters_.answered;
      continue;
    }
    auto q = dns::parse_query(query);
    if (!q) continue;
    if (upstreams_.empty()) {
      auto fail = dns::answer_empty(query, *q, dns::kServFail);
      ::sendto(fd, fail.data(), fail.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      continue;
    }
    uint16_t id = next_id_++;
    while (pending_.contains(id)) id = next_id_++;
    Pending p{fd, from, q->id, query, 0, std::chrono::steady_clock::now() + kUpstreamTimeout};
    dns::set_packet_id(p.query, id);
    ::sendto(upstream_fd_, p.query.data(), p.query.size(), 0, reinterpret_cast<const sockaddr*>(&upstreams_[0]),
             sizeof(sockaddr_in));
    pending_[id] = std::move(p);
    std::lock_guard lock(mu_);
    ++counters_.forwarded;
  }
}

void DnsServer::on_upstream() {
  char buf[4096];
  while (true) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(upstream_fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) return;
    std::string answer(buf, static_cast<size_t>(n));
    auto it = pending_.find(dns::packet_id(answer));
    if (it == pending_.end()) continue;
    const auto& up = upstreams_[it->second.upstream];
    if (from.sin_addr.s_addr != up.sin_addr.s_addr || from.sin_port != up.sin_port) continue;  // spoofed
    dns::set_packet_id(answer, it->second.client_id);
    ::sendto(it->second.client_fd, answer.data(), answer.size(), 0,
             reinterpret_cast<sockaddr*>(&it->second.client), sizeof(sockaddr_in));
    pending_.erase(it);
  }
}

void DnsServer::expire_pending() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (p.deadline > now) {
      ++it;
      continue;
    }
    if (p.upstream + 1 < upstreams_.size()) {  // the next upstream
      ++p.upstream;
      p.deadline = now + kUpstreamTimeout;
      ::sendto(upstream_fd_, p.query.data(), p.query.size(), 0,
               reinterpret_cast<const sockaddr*>(&upstreams_[p.upstream]), sizeof(sockaddr_in));
      ++it;
      continue;
    }
    if (auto q = dns::parse_query(p.query)) {
      auto fail = dns::answer_empty(p.query, *q, dns::kServFail);
      dns::set_packet_id(fail, p.client_id);
      ::sendto(p.client_fd, fail.data(), fail.size(), 0, reinterpret_cast<sockaddr*>(&p.client), sizeof(sockaddr_in));
    }
    {
      std::lock_guard lock(mu_);
      ++counters_.failed;
    }
    it = pending_.erase(it);
  }
}

std::optional<std::string> DnsServer::forward_blocking(const std::string& query) {
  for (const auto& up : upstreams_) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&up), sizeof up);
    pollfd p{fd, POLLIN, 0};
    std::optional<std::string> out;
    if (::poll(&p, 1, 2000) > 0) {
      char buf[65535];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) out.emplace(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (out) return out;
  }
  return std::nullopt;
}

void DnsServer::on_tcp(int listen_fd, const std::string& cid) {
  int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return;
  char lenbuf[2];
  if (read_exact(c, lenbuf, 2)) {
    size_t len = (static_cast<uint8_t>(lenbuf[0]) << 8) | static_cast<uint8_t>(lenbuf[1]);
    std::string query(len, '\0');
    if (len > 0 && read_exact(c, query.data(), len)) {
      auto answer = answer_locally(cid, query);
      if (!answer) answer = forward_blocking(query);
      if (answer) {
        std::string framed{static_cast<char>(answer->size() >> 8), static_cast<char>(answer->size() & 255)};
        framed += *answer;
        (void)::write(c, framed.data(), framed.size());
      }
    }
  }
  ::close(c);
}

void DnsServer::loop() {
  epoll_event events[64];
  while (!stop_) {
    int n = ::epoll_wait(epoll_, events, 64, pending_.empty() ? -1 : 200);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_) continue;
      if (fd == upstream_fd_) {
        on_upstream();
        continue;
      }
      std::string cid;
      bool udp = false;
      {
        std::lock_guard lock(mu_);
        auto it = owners_.find(fd);
        if (it == owners_.end()) continue;
        cid = it->second;
        udp = sockets_[cid].udp == fd;
      }
      if (udp) on_udp(fd, cid);
      else on_tcp(fd, cid);
    }
    expire_pending();
  }
}

}  // namespace berth::core::network
