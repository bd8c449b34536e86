#pragma once

#include <functional>
#include <string>

#include "cli/client/tls_config.hpp"

namespace berth::cli {

// Which daemon a command talks to, decided the way docker's CLI decides (cli/command/cli.go,
// resolveContextName):
//   1. -H together with --context is an error;
//   2. --context NAME;
//   3. -H ADDRESS (the "default" context with that address);
//   4. BERTH_HOST (likewise);
//   5. BERTH_CONTEXT;
//   6. "currentContext" in <config>/config.json (`berth context use`);
//   7. the default context: the local socket.
// Note the order of 2-4: a --context flag wins over BERTH_HOST from the environment, as in
// docker. Empty values count as unset.
struct EndpointSources {
  std::string host_flag;
  std::string host_env;
  std::string context_flag;
  std::string context_env;
  std::string current_context;
};

struct EndpointChoice {
  std::string context = "default";  // "default" or a stored context
  std::string host;                 // for "default": the address ("" = the local socket)
  std::string decided_by;           // "-H", "BERTH_HOST", "--context", ... (for -D and tests)
};

// Throws StatusError when -H and --context are both given.
EndpointChoice choose_endpoint(const EndpointSources& sources);

// The global TLS flags as parsed, and whether each was given explicitly.
struct TlsFlags {
  bool tls = false;
  bool tlsverify = false;
  bool tlsverify_given = false;
  std::string cacert, cert, key;  // "" when not given
};

// TLS for the default context, with docker's rules: BERTH_TLS_VERIFY (any non-empty value)
// turns verification on unless --tlsverify=false; --tlsverify (even =false) turns TLS on;
// the files default to ca.pem, cert.pem and key.pem in `cert_path` (BERTH_CERT_PATH, else the
// config folder), and a default cert.pem/key.pem that does not exist is simply not sent.
// Without verification the CA is not used.
TlsConfig tls_from_flags(const TlsFlags& flags, const std::string& tls_verify_env,
                         const std::string& cert_path,
                         const std::function<bool(const std::string&)>& file_exists);

// The config folder: --config, else BERTH_CONFIG, else ~/.berth.
std::string config_dir(const std::string& flag, const std::string& env, const std::string& home);

}  // namespace berth::cli
