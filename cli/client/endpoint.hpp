#pragma once

#include <string>

#include "cli/client/address.hpp"
#include "cli/client/tls_config.hpp"

namespace berth::cli {

// Everything needed to reach one daemon: where, how (TLS), and which context chose it.
struct Endpoint {
  Address address;
  TlsConfig tls;
  std::string context = "default";
};

}  // namespace berth::cli
