#include "cli/client/address.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "cli/app/errors.hpp"

namespace berth::cli {

namespace {

// [v6]:port, host:port or host. Leaves port empty when absent.
void split_host_port(const std::string& rest, const std::string& text, Address& a) {
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) throw StatusError("invalid host address: " + text, 1);
    a.host = rest.substr(1, close - 1);
    a.port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "";
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    a.host = rest.substr(0, colon);
    a.port = rest.substr(colon + 1);
  } else {
    a.host = rest;
  }
  for (char c : a.port)
    if (c < '0' || c > '9') throw StatusError("invalid port in host address: " + text, 1);
}

Address parse_ssh(const std::string& text) {
  Address a;
  a.kind = Address::Kind::kSsh;
  a.original = text;
  std::string rest = text.substr(6);
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    a.path = rest.substr(slash);
    rest.resize(slash);
    if (a.path == "/") a.path.clear();
  }
  if (rest.find_first_of("?#") != std::string::npos || a.path.find_first_of("?#") != std::string::npos)
    throw StatusError("invalid ssh URL " + text + ": query parameters and fragments are not allowed", 1);
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    a.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (a.user.find(':') != std::string::npos)
      throw StatusError("invalid ssh URL " + text +
                            ": plain-text password is not supported (use a key or ssh-agent)",
                        1);
  }
  split_host_port(rest, text, a);
  if (a.host.empty()) throw StatusError("invalid ssh URL " + text + ": hostname is empty", 1);
  // The host becomes an ssh argument: refuse anything ssh would read as an option.
  if (a.host[0] == '-' || (!a.user.empty() && a.user[0] == '-'))
    throw StatusError("invalid ssh URL " + text + ": host and user cannot start with '-'", 1);
  return a;
}

}  // namespace

Address Address::parse(const std::string& text, bool tls) {
  Address a;
  a.original = text;
  if (text.starts_with("unix://")) {
    a.kind = Kind::kUnix;
    a.path = text.substr(7);
    if (a.path.empty()) throw StatusError("invalid host address: " + text, 1);
    return a;
  }
  if (text.starts_with("/")) {  // bare socket path, docker accepts it too
    a.kind = Kind::kUnix;
    a.path = text;
    a.original = "unix://" + text;
    return a;
  }
  if (text.starts_with("ssh://")) return parse_ssh(text);
  std::string rest;
  if (text.starts_with("tcp://"))
    rest = text.substr(6);
  else if (text.starts_with("http://"))
    rest = text.substr(7);
  else if (text.starts_with("https://"))
    rest = text.substr(8);
  else
    throw StatusError("unable to parse docker host `" + text + "`", 1);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  a.kind = Kind::kTcp;
  split_host_port(rest, text, a);
  if (a.host.empty()) a.host = "127.0.0.1";
  if (a.port.empty()) a.port = tls ? kDefaultTlsPort : kDefaultTcpPort;
  return a;
}

bool is_loopback_ip(const std::string& ip) {
  in_addr v4{};
  if (::inet_pton(AF_INET, ip.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, ip.c_str(), &v6) != 1) return false;
  static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(v6.s6_addr, loopback, 16) == 0) return true;
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(v6.s6_addr, mapped, 12) == 0 && v6.s6_addr[12] == 127;
}

}  // namespace berth::cli
