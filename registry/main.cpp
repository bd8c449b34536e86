// berth-registry: `berth-registry --listen 127.0.0.1:5000 --root DIR` serves the distribution
// API at once, with no config file; `--config FILE` (JSON) sets everything, flags override it.
// `berth-registry gc --root DIR [--dry-run]` collects garbage (safe while a registry serves).
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "registry/config.hpp"
#include "registry/service.hpp"

using namespace berth::registry;

namespace {

struct Flags {
  std::string config_file;
  std::string listen, root, log_level, upload_lifetime, gc_interval, gc_grace_period;
  std::string auth_mode, htpasswd, tls_cert, tls_key, tls_client_ca;
  unsigned threads = 0;
  bool read_only = false, delete_untagged = false, dry_run = false;
  uint64_t max_manifest_bytes = 0, max_upload_bytes = 0, max_requests_in_flight = 0;
};

// Flags given on the command line win over the config file.
bool apply_flags(const CLI::App& app, const Flags& f, RegistryConfig& c) {
  auto given = [&](const char* name) {
    const CLI::Option* option = const_cast<CLI::App&>(app).get_option_no_throw(name);
    return option != nullptr && option->count() > 0;
  };
  auto duration = [&](const char* name, const std::string& text, std::chrono::seconds& out) {
    if (!given(name)) return true;
    auto parsed = parse_duration(text);
    if (!parsed) {
      std::fprintf(stderr, "berth-registry: %s \"%s\": want a duration such as 90s, 15m, 24h\n",
                   name, text.c_str());
      return false;
    }
    out = *parsed;
    return true;
  };
  if (given("--listen")) c.listen = f.listen;
  if (given("--root")) c.root = f.root;
  if (given("--log-level")) c.log_level = f.log_level;
  if (given("--threads")) c.threads = f.threads;
  if (given("--read-only")) c.read_only = f.read_only;
  if (given("--max-manifest-bytes")) c.max_manifest_bytes = f.max_manifest_bytes;
  if (given("--max-upload-bytes")) c.max_upload_bytes = f.max_upload_bytes;
  if (given("--max-requests-in-flight")) c.max_requests_in_flight = f.max_requests_in_flight;
  if (given("--delete-untagged")) c.gc_delete_untagged = f.delete_untagged;
  if (given("--htpasswd")) {
    c.auth.htpasswd_path = f.htpasswd;
    if (c.auth.mode == auth::AuthMode::kNone) c.auth.mode = auth::AuthMode::kBasic;
  }
  if (given("--tls-cert")) c.tls.cert = f.tls_cert;
  if (given("--tls-key")) c.tls.key = f.tls_key;
  if (given("--tls-client-ca")) c.tls.client_ca = f.tls_client_ca;
  if (given("--auth")) {
    c.auth.mode = f.auth_mode == "token"   ? auth::AuthMode::kToken
                  : f.auth_mode == "basic" ? auth::AuthMode::kBasic
                                           : auth::AuthMode::kNone;
  }
  return duration("--upload-lifetime", f.upload_lifetime, c.upload_lifetime) &&
         duration("--gc-interval", f.gc_interval, c.gc_interval) &&
         duration("--gc-grace-period", f.gc_grace_period, c.gc_grace_period);
}

void add_common_flags(CLI::App& app, Flags& f) {
  app.add_option("--config", f.config_file, "JSON config file (flags override it)");
  app.add_option("--root", f.root, "storage directory (created when missing)");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn or error");
  app.add_option("--gc-grace-period", f.gc_grace_period,
                 "never collect blobs or manifests younger than this (default 1h)");
  app.add_flag("--delete-untagged", f.delete_untagged,
               "GC also removes manifests no tag, index or subject reaches");
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena, and the serving and file threads
  // all do: two arenas are plenty for this load and keep the RSS of 8 threads near that of 2
  // (2.5 MiB less at the peak of bench/registry.sh's pushes).
  ::mallopt(M_ARENA_MAX, 2);
  std::signal(SIGPIPE, SIG_IGN);
  Flags flags;
  CLI::App app{"berth-registry: an OCI Distribution Spec v1.1 registry"};
  add_common_flags(app, flags);
  app.add_option("--listen", flags.listen, "HOST:PORT to serve on (port 0 picks one; default 127.0.0.1:5000)");
  app.add_option("--threads", flags.threads, "threads serving requests (default 4)")
      ->check(CLI::Range(1u, 256u));
  app.add_flag("--read-only", flags.read_only, "refuse pushes and deletes");
  app.add_option("--max-manifest-bytes", flags.max_manifest_bytes, "largest manifest accepted (default 4 MiB)");
  app.add_option("--max-upload-bytes", flags.max_upload_bytes, "largest blob accepted (0: no limit)");
  app.add_option("--max-requests-in-flight", flags.max_requests_in_flight,
                 "answer 429 TOOMANYREQUESTS past this many requests at once (0: no limit)");
  app.add_option("--upload-lifetime", flags.upload_lifetime,
                 "abandoned uploads are removed after this (default 24h)");
  app.add_option("--auth", flags.auth_mode, "none, basic (htpasswd) or token (own /token endpoint)")
      ->check(CLI::IsMember({"none", "basic", "token"}));
  app.add_option("--htpasswd", flags.htpasswd, "htpasswd file (bcrypt: htpasswd -B); enables basic auth");
  app.add_option("--tls-cert", flags.tls_cert, "PEM certificate chain: serve HTTPS");
  app.add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", flags.tls_client_ca,
                 "require client certificates signed by this CA (PEM)");
  app.add_option("--gc-interval", flags.gc_interval, "collect garbage this often (default 0: on demand)");

  Flags gc_flags;
  CLI::App* gc = app.add_subcommand("gc", "collect unreferenced blobs (safe while serving)");
  add_common_flags(*gc, gc_flags);
  gc->add_flag("--dry-run", gc_flags.dry_run, "list what would be deleted, delete nothing");
  CLI11_PARSE(app, argc, argv);

  const CLI::App& chosen = gc->parsed() ? *gc : app;
  Flags& f = gc->parsed() ? gc_flags : flags;
  RegistryConfig config;
  if (!f.config_file.empty()) {
    if (auto st = load_config_file(f.config_file, config); !st) {
      std::fprintf(stderr, "berth-registry: %s\n", st.error().message.c_str());
      return 2;
    }
  }
  if (!apply_flags(chosen, f, config)) return 2;
  if (auto st = validate_config(config); !st) {
    std::fprintf(stderr, "berth-registry: %s\n", st.error().message.c_str());
    return 2;
  }
  if (gc->parsed()) return run_gc_command(config, f.dry_run);
  return run_registry(config);
}
