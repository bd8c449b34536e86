#include "registry/service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/common/json_text.hpp"
#include "core/common/logging.hpp"
#include "registry/api.hpp"
#include "registry/fs_storage.hpp"
#include "registry/gc.hpp"
#include "registry/http_server.hpp"
#include "registry/metrics.hpp"

namespace berth::registry {
namespace asio = boost::asio;
using distribution::RegistryErrorCode;

namespace {

void log_access(const AccessRecord& r) {
  static auto logger = logging::get("access");
  logger->info(
      "method={} path={} status={} bytes_in={} bytes_out={} duration_ms={:.3f} user={} remote={}",
      r.method, r.path, r.status, r.bytes_in, r.bytes_out,
      static_cast<double>(r.duration.count()) / 1000.0, r.user.empty() ? "-" : r.user, r.remote);
}

bool is_loopback(const std::string& address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

bool query_true(const Exchange& ex, std::string_view name) {
  auto v = ex.query_value(name);
  return v && (*v == "1" || *v == "true" || *v == "yes");
}

class Service {
 public:
  Service(const RegistryConfig& config, std::unique_ptr<FsStorage> storage,
          std::unique_ptr<auth::Authenticator> authenticator)
      : config_(config),
        storage_(std::move(storage)),
        auth_(std::move(authenticator)),
        io_(static_cast<int>(config.threads)),
        api_(*storage_,
             ApiOptions{.max_manifest_bytes = config.max_manifest_bytes,
                        .max_upload_bytes = config.max_upload_bytes,
                        .read_only = config.read_only},
             auth_->mode() == auth::AuthMode::kNone ? nullptr : auth_.get()),
        server_(io_, [this](Exchange& ex) { return handle(ex); },
                [this](const AccessRecord& r) {
                  metrics_.record(r);
                  log_access(r);
                },
                HttpServerLimits{.file_threads = config.threads}) {}

  int run() {
    auto log = logging::get("registry");
    if (!config_.tls.cert.empty()) {
      if (auto st = server_.enable_tls(config_.tls); !st) {
        std::fprintf(stderr, "berth-registry: %s\n", st.error().message.c_str());
        return 2;
      }
    }
    auto port = server_.listen(config_.listen);
    if (!port) {
      std::fprintf(stderr, "berth-registry: %s\n", port.error().message.c_str());
      return 1;
    }
    auto host = split_listen_address(config_.listen)->first;
    // Tests start the registry on port 0 and read the port from this line.
    std::printf("berth-registry listening on %s:%u\n", host.c_str(), static_cast<unsigned>(*port));
    std::fflush(stdout);
    log->info("serving root={} listen={}:{} threads={} read_only={} tls={}", config_.root, host,
              *port, config_.threads, config_.read_only, !config_.tls.cert.empty());
    server_.start();
    asio::co_spawn(io_, upkeep(), asio::detached);

    asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      log->info("signal {}: finishing requests in flight", signal);
      server_.stop_accepting();
      stop_when_drained(std::make_shared<asio::steady_timer>(io_), 600);
    });
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < config_.threads; ++i) workers.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : workers) t.join();
    gc_pool_.join();
    log->info("stopped");
    return 0;
  }

 private:
  Task<Response> handle(Exchange& ex) {
    Response res;
    // This request is counted in flight already.
    if (config_.max_requests_in_flight != 0 &&
        server_.requests_in_flight() > config_.max_requests_in_flight) {
      res = error_response(RegistryErrorCode::kTooManyRequests,
                           "more than " + std::to_string(config_.max_requests_in_flight) +
                               " requests at once: retry shortly");
      res.header("Retry-After", "1");
    } else if (ex.path == "/metrics" && (ex.method == "GET" || ex.method == "HEAD")) {
      res.header("Content-Type", "text/plain; version=0.0.4");
      res.body = metrics_.render(storage_->uploads_in_progress());
    } else if (ex.path == "/token" && (ex.method == "GET" || ex.method == "HEAD")) {
      res = auth_->issue_token(ex);
    } else if (ex.path == "/admin/gc") {
      res = co_await admin_gc(ex);
    } else {
      res = co_await api_.handle(ex);
    }
    res.header("Docker-Distribution-API-Version", "registry/2.0");
    co_return res;
  }

  // POST /admin/gc[?dry_run=true][&untagged=true]: a collection now, its report as JSON.
  Task<Response> admin_gc(Exchange& ex) {
    if (!is_loopback(ex.remote)) {
      co_return error_response(RegistryErrorCode::kDenied,
                               "the admin endpoint answers loopback clients only");
    }
    if (ex.method != "POST") co_return error_response(RegistryErrorCode::kUnsupported, {}, nullptr, 405);
    GcOptions options{.dry_run = query_true(ex, "dry_run"),
                      .delete_untagged = query_true(ex, "untagged") || config_.gc_delete_untagged,
                      .grace_period = config_.gc_grace_period};
    auto report = co_await asio::co_spawn(
        gc_pool_, [this, options]() -> Task<Result<GcReport>> { co_return run_gc(options); },
        asio::use_awaitable);
    if (!report) {
      bool busy = report.error().code == ErrorCode::kUnavailable;
      co_return error_response(busy ? RegistryErrorCode::kUnsupported : RegistryErrorCode::kUnknown,
                               report.error().message, nullptr, busy ? 409 : 500);
    }
    Response res;
    res.header("Content-Type", "application/json");
    res.body = json_text::serialize(report->to_json());
    co_return res;
  }

  Result<GcReport> run_gc(const GcOptions& options) {
    std::unique_lock lock(gc_mutex_, std::try_to_lock);
    if (!lock) return make_error(ErrorCode::kUnavailable, "a garbage collection is already running");
    auto report = collect_garbage(*storage_, options);
    if (report) {
      if (!options.dry_run) {
        metrics_.record_gc_run(report->deleted_blobs.size(), report->deleted_manifests.size());
      }
      logging::get("gc")->info("dry_run={} deleted_blobs={} deleted_manifests={} freed_bytes={}",
                               options.dry_run, report->deleted_blobs.size(),
                               report->deleted_manifests.size(), report->freed_bytes);
    } else {
      logging::get("gc")->error("{}", report.error().message);
    }
    return report;
  }

  // Abandoned uploads go after their lifetime; the scheduled collection runs on its interval.
  Task<void> upkeep() {
    using namespace std::chrono;
    auto sweep_every = std::clamp<seconds>(config_.upload_lifetime / 4, seconds(1), seconds(600));
    if (config_.gc_interval.count() > 0) sweep_every = std::min(sweep_every, config_.gc_interval);
    auto next_gc = steady_clock::now() + config_.gc_interval;
    asio::steady_timer timer(io_);
    for (;;) {
      timer.expires_after(sweep_every);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (size_t n = storage_->remove_stale_uploads(config_.upload_lifetime)) {
        logging::get("registry")->info("removed {} abandoned uploads", n);
      }
      if (config_.gc_interval.count() > 0 && steady_clock::now() >= next_gc) {
        next_gc = steady_clock::now() + config_.gc_interval;
        GcOptions options{.dry_run = false, .delete_untagged = config_.gc_delete_untagged,
                          .grace_period = config_.gc_grace_period};
        asio::post(gc_pool_, [this, options] { (void)run_gc(options); });
      }
    }
  }

  void stop_when_drained(std::shared_ptr<asio::steady_timer> timer, int rounds_left) {
    if (server_.requests_in_flight() == 0 || rounds_left == 0) {
      io_.stop();
      return;
    }
    timer->expires_after(std::chrono::milliseconds(50));
    timer->async_wait([this, timer, rounds_left](const boost::system::error_code&) {
      stop_when_drained(timer, rounds_left - 1);
    });
  }

  RegistryConfig config_;
  std::unique_ptr<FsStorage> storage_;
  std::unique_ptr<auth::Authenticator> auth_;
  asio::io_context io_;
  asio::thread_pool gc_pool_{1};
  std::mutex gc_mutex_;
  Metrics metrics_;
  RegistryApi api_;
  HttpServer server_;
};

}  // namespace

int run_registry(const RegistryConfig& config) {
  auto storage = FsStorage::open(config.root);
  if (!storage) {
    std::fprintf(stderr, "berth-registry: %s\n", storage.error().message.c_str());
    return 1;
  }
  auto auth_settings = config.auth;
  auth_settings.tls = !config.tls.cert.empty();
  auto authenticator = auth::Authenticator::create(std::move(auth_settings));
  if (!authenticator) {
    std::fprintf(stderr, "berth-registry: %s\n", authenticator.error().message.c_str());
    return 2;
  }
  Service service(config, std::move(*storage), std::move(*authenticator));
  return service.run();
}

int run_gc_command(const RegistryConfig& config, bool dry_run) {
  auto storage = FsStorage::open(config.root);
  if (!storage) {
    std::fprintf(stderr, "berth-registry gc: %s\n", storage.error().message.c_str());
    return 1;
  }
  auto report = collect_garbage(**storage, GcOptions{.dry_run = dry_run,
                                                     .delete_untagged = config.gc_delete_untagged,
                                                     .grace_period = config.gc_grace_period});
  if (!report) {
    std::fprintf(stderr, "berth-registry gc: %s\n", report.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", json_text::serialize(report->to_json()).c_str());
  return 0;
}

}  // namespace berth::registry
