// berth-registry: `berth-registry --listen 127.0.0.1:5000 --root DIR` serves the distribution
// API at once, with no config file.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <thread>

#include "core/common/logging.hpp"
#include "registry/api.hpp"
#include "registry/fs_storage.hpp"
#include "registry/http_server.hpp"

namespace asio = boost::asio;
using namespace berth;
using namespace berth::registry;

namespace {

struct Options {
  std::string listen = "127.0.0.1:5000";
  std::string root;
  unsigned threads = 4;
  std::string log_level = "info";
  bool read_only = false;
  uint64_t max_manifest_bytes = 4 * 1024 * 1024;
  uint64_t max_upload_bytes = 0;
};

void log_access(const AccessRecord& r) {
  static auto logger = logging::get("access");
  logger->info("method={} path={} status={} bytes_in={} bytes_out={} duration_ms={:.3f} user={} remote={}",
               r.method, r.path, r.status, r.bytes_in, r.bytes_out,
               static_cast<double>(r.duration.count()) / 1000.0, r.user.empty() ? "-" : r.user,
               r.remote);
}

// After SIGTERM/SIGINT: no new connections; stop once the requests in flight are answered
// (or after a bound, so a stuck client cannot hold the shutdown).
void wait_for_drain(asio::io_context& io, HttpServer& server,
                    std::shared_ptr<asio::steady_timer> timer, int rounds_left) {
  if (server.requests_in_flight() == 0 || rounds_left == 0) {
    io.stop();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(50));
  timer->async_wait([&io, &server, timer, rounds_left](const boost::system::error_code&) {
    wait_for_drain(io, server, timer, rounds_left - 1);
  });
}

int serve(const Options& options) {
  auto log = logging::get("registry");
  if (auto st = logging::set_level(options.log_level); !st) {
    std::fprintf(stderr, "berth-registry: log-level: %s\n", st.error().message.c_str());
    return 2;
  }
  auto storage = FsStorage::open(options.root);
  if (!storage) {
    std::fprintf(stderr, "berth-registry: %s\n", storage.error().message.c_str());
    return 1;
  }
  asio::io_context io(static_cast<int>(options.threads));
  RegistryApi api(**storage, ApiOptions{.max_manifest_bytes = options.max_manifest_bytes,
                                       .max_upload_bytes = options.max_upload_bytes,
                                       .read_only = options.read_only});
  HttpServer server(
      io,
      [&api](Exchange& ex) -> Task<Response> {
        Response res = co_await api.handle(ex);
        res.header("Docker-Distribution-API-Version", "registry/2.0");
        co_return res;
      },
      log_access);
  auto port = server.listen(options.listen);
  if (!port) {
    std::fprintf(stderr, "berth-registry: %s\n", port.error().message.c_str());
    return 1;
  }
  auto host = split_listen_address(options.listen)->first;
  // Tests start the registry on port 0 and read the port from this line.
  std::printf("berth-registry listening on %s:%u\n", host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);
  log->info("serving root={} listen={}:{} threads={}", options.root, host, *port, options.threads);
  server.start();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log->info("signal {}: finishing requests in flight", signal);
    server.stop_accepting();
    wait_for_drain(io, server, std::make_shared<asio::steady_timer>(io), 600);
  });

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < options.threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : workers) t.join();
  log->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Options options;
  CLI::App app{"berth-registry: an OCI Distribution Spec v1.1 registry"};
  app.add_option("--listen", options.listen, "HOST:PORT to serve on (port 0 picks one)")
      ->capture_default_str();
  app.add_option("--root", options.root, "storage directory (created when missing)");
  app.add_option("--threads", options.threads, "threads serving requests")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn or error")
      ->capture_default_str();
  app.add_option("--max-manifest-bytes", options.max_manifest_bytes,
                 "largest manifest accepted")->capture_default_str();
  app.add_option("--max-upload-bytes", options.max_upload_bytes,
                 "largest blob accepted (0: no limit)")->capture_default_str();
  app.add_flag("--read-only", options.read_only, "refuse pushes and deletes");
  CLI11_PARSE(app, argc, argv);
  if (options.root.empty()) {
    std::fprintf(stderr, "berth-registry: --root DIR is required (where blobs and manifests are stored)\n");
    return 2;
  }
  return serve(options);
}
