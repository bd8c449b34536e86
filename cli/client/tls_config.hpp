#pragma once

#include <string>

namespace berth::cli {

// How to speak TLS to a tcp:// daemon. Filled from --tls/--tlsverify/--tlscacert/--tlscert/
// --tlskey and BERTH_TLS_VERIFY/BERTH_CERT_PATH (the default context), or from a context's
// stored material. Docker's semantics: --tlsverify implies --tls; without verification the
// daemon's certificate is not checked (and the CA file is ignored).
struct TlsConfig {
  bool enabled = false;
  bool verify = false;    // check the daemon's certificate and name
  std::string ca_file;    // trusted CA; "" = the system's roots
  std::string cert_file;  // client certificate ("" = none sent)
  std::string key_file;
  // Where the settings came from, for messages: "flags" or "context \"prod\"".
  std::string origin = "flags";
};

}  // namespace berth::cli
