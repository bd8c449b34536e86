#include "core/image/registry_hosts.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace berth::core::image {
namespace {

// "127.0.0.1:5000" → "127.0.0.1", "[::1]:5000" → "::1", "localhost" → "localhost".
std::string host_part(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    auto close = host.find(']');
    return std::string(host.substr(1, close == std::string_view::npos ? host.size() : close - 1));
  }
  auto colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    return std::string(host.substr(0, colon));
  }
  return std::string(host);
}

bool in_cidr(const std::string& ip, std::string_view cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  std::string net(cidr.substr(0, slash));
  int bits = 0;
  try {
    bits = std::stoi(std::string(cidr.substr(slash + 1)));
  } catch (...) {
    return false;
  }
  unsigned char a[16] = {}, b[16] = {};
  int family = ip.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(family, ip.c_str(), a) != 1 || inet_pton(family, net.c_str(), b) != 1) return false;
  int total = family == AF_INET ? 32 : 128;
  if (bits < 0 || bits > total) return false;
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1)) return false;
  }
  return true;
}

struct Mirror {
  std::string registry;  // which registry it mirrors
  Endpoint endpoint;
};

Result<Mirror> parse_mirror(std::string_view entry) {
  Mirror m;
  std::string_view url = entry;
  if (auto eq = entry.find('='); eq != std::string_view::npos) {
    m.registry = std::string(entry.substr(0, eq));
    url = entry.substr(eq + 1);
  } else {
    m.registry = "registry-1.docker.io";
  }
  bool plain = false;
  if (url.rfind("http://", 0) == 0) {
    plain = true;
    url.remove_prefix(7);
  } else if (url.rfind("https://", 0) == 0) {
    url.remove_prefix(8);
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.empty() || url.find('/') != std::string_view::npos || m.registry.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "registry-mirrors: \"" + std::string(entry) +
                          "\" is not a mirror URL (\"https://host[:port]\", or "
                          "\"<registry host>=<mirror URL>\" for a registry other than docker.io)");
  }
  m.endpoint = Endpoint{std::string(url), plain, true};
  return m;
}

}  // namespace

std::string registry_host(std::string_view domain) {
  if (domain == "docker.io" || domain == "index.docker.io") return "registry-1.docker.io";
  return std::string(domain);
}

bool is_insecure_registry(std::string_view host, const std::vector<std::string>& insecure) {
  std::string h = host_part(host);
  if (h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0) return true;
  for (const auto& entry : insecure) {
    if (entry == host || entry == h) return true;
    if (in_cidr(h, entry)) return true;
  }
  return false;
}

Result<std::vector<Endpoint>> pull_endpoints(std::string_view domain,
                                             const config::RegistryOptions& options) {
  std::string origin = registry_host(domain);
  std::vector<Endpoint> out;
  for (const auto& entry : options.mirrors) {
    auto m = parse_mirror(entry);
    if (!m) return m.error();
    if (registry_host(m->registry) != origin) continue;
    m->endpoint.insecure =
        m->endpoint.insecure || is_insecure_registry(m->endpoint.host, options.insecure_registries);
    out.push_back(m->endpoint);
  }
  out.push_back(Endpoint{origin, is_insecure_registry(origin, options.insecure_registries), false});
  return out;
}

Status validate_registry_options(const config::RegistryOptions& options) {
  for (const auto& entry : options.mirrors) {
    if (auto m = parse_mirror(entry); !m) return m.error();
  }
  for (const auto& entry : options.insecure_registries) {
    if (entry.empty() || entry.find("://") != std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "insecure-registries: \"" + entry +
                            "\" must be host[:port] or a CIDR, without a scheme");
    }
  }
  return {};
}

std::string credentials_key(std::string_view domain) {
  if (domain == "docker.io" || domain == "index.docker.io" || domain == "registry-1.docker.io") {
    return "https://index.docker.io/v1/";
  }
  return std::string(domain);
}

}  // namespace berth::core::image
