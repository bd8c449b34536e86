#include "cli/app/endpoint_choice.hpp"

#include "cli/app/errors.hpp"

namespace berth::cli {

EndpointChoice choose_endpoint(const EndpointSources& s) {
  if (!s.context_flag.empty() && !s.host_flag.empty())
    throw StatusError("conflicting options: either specify --host or --context, not both", 1);
  if (!s.context_flag.empty()) return {s.context_flag, "", "--context"};
  if (!s.host_flag.empty()) return {"default", s.host_flag, "-H"};
  if (!s.host_env.empty()) return {"default", s.host_env, "BERTH_HOST"};
  if (!s.context_env.empty()) return {s.context_env, "", "BERTH_CONTEXT"};
  if (!s.current_context.empty()) return {s.current_context, "", "config.json"};
  return {"default", "", "default"};
}

TlsConfig tls_from_flags(const TlsFlags& f, const std::string& tls_verify_env,
                         const std::string& cert_path,
                         const std::function<bool(const std::string&)>& file_exists) {
  TlsConfig c;
  c.verify = f.tlsverify_given ? f.tlsverify : !tls_verify_env.empty();
  c.enabled = f.tls || f.tlsverify_given || c.verify;
  if (!c.enabled) {
    c.verify = false;
    return c;
  }
  std::string base = cert_path.empty() || cert_path.back() == '/' ? cert_path : cert_path + "/";
  if (c.verify) c.ca_file = f.cacert.empty() ? base + "ca.pem" : f.cacert;
  c.cert_file = f.cert.empty() ? base + "cert.pem" : f.cert;
  c.key_file = f.key.empty() ? base + "key.pem" : f.key;
  if (f.cert.empty() && !file_exists(c.cert_file)) c.cert_file.clear();
  if (f.key.empty() && !file_exists(c.key_file)) c.key_file.clear();
  return c;
}

std::string config_dir(const std::string& flag, const std::string& env, const std::string& home) {
  if (!flag.empty()) return flag;
  if (!env.empty()) return env;
  return (home.empty() || home.back() == '/' ? home : home + "/") + ".berth";
}

}  // namespace berth::cli
