#include "cli/app/context.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/app/errors.hpp"
#include "cli/util/files.hpp"

namespace berth::cli {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

EndpointSources endpoint_sources(const GlobalOptions& opts, const ContextStore& store) {
  EndpointSources sources{.host_flag = opts.host,
                          .host_env = env("BERTH_HOST"),
                          .context_flag = opts.context,
                          .context_env = env("BERTH_CONTEXT")};
  // config.json is read only when nothing earlier decided (a broken one must not break -H).
  if (sources.host_flag.empty() && sources.host_env.empty() && sources.context_flag.empty() &&
      sources.context_env.empty())
    sources.current_context = store.current();
  return sources;
}

Endpoint default_endpoint(const GlobalOptions& opts, const ContextStore& store) {
  Endpoint ep;
  std::string host = !opts.host.empty() ? opts.host : env("BERTH_HOST");
  std::string cert_path = env("BERTH_CERT_PATH");
  if (cert_path.empty()) cert_path = store.dir().string();
  ep.tls = tls_from_flags(opts.tls, env("BERTH_TLS_VERIFY"), cert_path, file_exists);
  ep.address = Address::parse(host.empty() ? Address::kDefault : host, ep.tls.enabled);
  if (ep.address.kind != Address::Kind::kTcp) ep.tls = TlsConfig{};
  return ep;
}

Endpoint resolve_endpoint(const GlobalOptions& opts, const ContextStore& store) {
  EndpointSources sources = endpoint_sources(opts, store);
  EndpointChoice choice = choose_endpoint(sources);
  Endpoint ep;
  if (choice.context == "default") {
    ep = default_endpoint(opts, store);
  } else {
    ep.context = choice.context;
    auto meta = store.get(choice.context);
    if (!meta) {
      if (choice.decided_by == "config.json")
        throw StatusError("Current context \"" + choice.context +
                              "\" is not found on the file system, please check your config file at " +
                              store.config_file().string(),
                          1);
      throw StatusError("context \"" + choice.context + "\" does not exist (see `berth context ls`)", 1);
    }
    ep.tls = store.tls_config(*meta);
    ep.address = Address::parse(meta->host, ep.tls.enabled);
  }
  // TLS applies to tcp:// only; sockets and ssh bring their own protection.
  if (ep.address.kind != Address::Kind::kTcp) ep.tls = TlsConfig{};
  if (opts.debug)
    std::cerr << "berth: using context \"" << ep.context << "\" (" << choice.decided_by << "): "
              << ep.address.original << (ep.tls.enabled ? (ep.tls.verify ? " (TLS, verified)" : " (TLS, not verified)") : "")
              << "\n";
  return ep;
}

std::string Context::config_dir() const {
  return berth::cli::config_dir(opts_.config, env("BERTH_CONFIG"), home_dir());
}

std::string Context::current_context_name() const {
  return choose_endpoint(endpoint_sources(opts_, store())).context;
}

const Endpoint& Context::endpoint() {
  if (!endpoint_) endpoint_ = resolve_endpoint(opts_, store());
  return *endpoint_;
}

std::string Context::host() { return endpoint().address.original; }

ApiClient& Context::api() {
  if (!api_) api_ = std::make_unique<ApiClient>(endpoint());
  return *api_;
}

bool Context::stdin_is_tty() const { return ::isatty(0) == 1; }
bool Context::stdout_is_tty() const { return ::isatty(1) == 1; }

}  // namespace berth::cli
