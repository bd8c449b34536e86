// Where an image reference is fetched from, as policy apart from I/O: Docker's registry host
// for a reference's domain, which hosts may be spoken to over plain HTTP (loopback and
// insecure-registries, by host:port or CIDR), and the endpoints of a pull in order (the mirrors
// registry-mirrors gives that registry, then the registry itself).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"
#include "core/config/daemon_config.hpp"

namespace berth::core::image {

// "docker.io" → "registry-1.docker.io"; any other domain is its own host.
std::string registry_host(std::string_view domain);

// Loopback ("localhost", 127.0.0.0/8, ::1) or listed in `insecure` (host:port, host, or CIDR).
bool is_insecure_registry(std::string_view host, const std::vector<std::string>& insecure);

struct Endpoint {
  std::string host;  // "127.0.0.1:5000"
  bool insecure = false;
  bool mirror = false;
};

// Mirrors first (in the order given), then the origin. Mirror entries: "https://m.example" (for
// docker.io, as Docker reads them) or "<registry host>=<mirror URL>".
Result<std::vector<Endpoint>> pull_endpoints(std::string_view domain,
                                             const config::RegistryOptions& options);

// Checks every registry-mirrors and insecure-registries entry (startup).
Status validate_registry_options(const config::RegistryOptions& options);

// The key the docker CLI stores credentials under for a registry: "https://index.docker.io/v1/"
// for Docker Hub, the host otherwise.
std::string credentials_key(std::string_view domain);

}  // namespace berth::core::image
