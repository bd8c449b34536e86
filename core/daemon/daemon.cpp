#include "core/daemon/daemon.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "core/api/handlers/build_handlers.hpp"
#include "core/build/builder.hpp"
#include "core/api/handlers/container_handlers.hpp"
#include "core/api/handlers/df_handlers.hpp"
#include "core/api/handlers/exec_handlers.hpp"
#include "core/api/handlers/image_handlers.hpp"
#include "core/api/handlers/network_handlers.hpp"
#include "core/api/handlers/system_handlers.hpp"
#include "core/api/handlers/volume_handlers.hpp"
#include "core/api/server.hpp"
#include "core/common/fs.hpp"
#include "core/common/host_info.hpp"
#include "core/common/ids.hpp"
#include "core/common/kernel_floor.hpp"
#include "core/common/logging.hpp"
#include "core/common/resident_code.hpp"
#include "core/common/systemd.hpp"
#include "core/config/userns_remap.hpp"
#include "core/daemon/daemon_lock.hpp"
#include "core/daemon/exec_root.hpp"
#include "core/events/event_bus.hpp"
#include "core/api/handlers/distribution_handlers.hpp"
#include "core/image/image_pull.hpp"
#include "core/image/image_service.hpp"
#include "core/image/registry_auth.hpp"
#include "core/image/registry_hosts.hpp"
#include "core/image/image_store.hpp"
#include "core/container/container_manager.hpp"
#include "core/network/network_manager.hpp"
#include "core/volume/volume_manager.hpp"
#include "core/plugin/plugin_manager.hpp"
#include "core/version.hpp"

namespace berth::core::daemon {
namespace {

int64_t count_dir_entries(const char* path) {
  int64_t n = 0;
  if (DIR* d = ::opendir(path)) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n > 2 ? n - 2 : 0;
}

Result<std::string> daemon_id(const std::string& data_root) {
  auto path = std::filesystem::path(data_root) / "engine-id";
  if (auto existing = fs::read_file(path)) {
    std::string id = *existing;
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (!id.empty()) return id;
  }
  std::string id = random_hex(16);
  BERTH_TRY_STATUS(fs::atomic_write(path, id + "\n", 0600));
  return id;
}

// Image metadata lives in image/<driver>; finding another driver's there means this data-root
// was made with another storage driver, whose layers this one cannot read.
Status check_storage_driver_switch(const std::string& data_root, const std::string& driver) {
  std::error_code ec;
  std::vector<std::string> others;
  for (const auto& entry : std::filesystem::directory_iterator(data_root + "/image", ec)) {
    std::string name = entry.path().filename().string();
    if (name == driver || !entry.is_directory()) continue;
    bool has_data = false;
    for (const auto& sub : {"images", "layers"}) {
      std::error_code ec2;
      auto it = std::filesystem::directory_iterator(entry.path() / sub, ec2);
      if (!ec2 && it != std::filesystem::directory_iterator()) has_data = true;
    }
    if (has_data) others.push_back(name);
  }
  if (others.empty()) return {};
  std::string list;
  for (const auto& o : others) list += (list.empty() ? "" : ", ") + ("\"" + o + "\"");
  return make_error(ErrorCode::kFailedPrecondition,
                    "data-root " + data_root + " holds images stored with the storage driver " + list +
                        ", which \"" + driver + "\" cannot read; set \"storage-driver\" back to " +
                        others[0] + ", or use a new --data-root (remove " + data_root + "/image/" +
                        others[0] + " and its plugin data only if those images can be lost)");
}

}  // namespace

struct Daemon::State {
  std::optional<DaemonLock> lock;
  VolatileExecRoot exec_root;
  std::unique_ptr<plugin::PluginManager> plugins;
  events::EventBus events;
  std::optional<store::ContentStore> content;
  std::unique_ptr<image::ImageStore> image_store;
  std::unique_ptr<image::ImageService> images;
  std::unique_ptr<image::ImagePuller> puller;
  std::unique_ptr<image::ImagePusher> pusher;
  std::unique_ptr<volume::VolumeManager> volumes;
  std::unique_ptr<network::NetworkManager> networks;  // destroyed after the containers
  std::unique_ptr<container::ContainerManager> containers;
  std::unique_ptr<build::Builder> builder;
  api::Router router;
  std::unique_ptr<api::Server> server;
};

Daemon::Daemon(config::DaemonConfig config)
    : config_(std::move(config)), state_(std::make_unique<State>()) {}

Daemon::~Daemon() = default;

Status Daemon::start() {
  auto log = logging::get("daemon");
  auto& s = *state_;
  // The kernel floor first: a kernel too old for berthd is refused before anything is made.
  {
    auto features = kernel::probe();
    BERTH_TRY_STATUS(kernel::check_floor(features, read_host_info().kernel_version));
    for (const auto& note : kernel::fallback_notes(features)) log->info("kernel: {}", note);
  }
  BERTH_TRY_STATUS(fs::ensure_dir(config_.data_root, 0711));
  auto lock = DaemonLock::acquire(config_.data_root);
  if (!lock) return lock.error();
  s.lock.emplace(std::move(*lock));
  auto exec_root = VolatileExecRoot::prepare(config_.exec_root);
  if (!exec_root) return exec_root.error();
  s.exec_root = std::move(*exec_root);
  auto id = daemon_id(config_.data_root);
  if (!id) return id.error().wrap("daemon id");
  BERTH_TRY_STATUS(fs::ensure_dir(config_.data_root + "/plugins", 0700));
  BERTH_TRY_STATUS(fs::ensure_dir(config_.exec_root + "/plugins", 0700));

  std::vector<std::string> dirs = config_.plugin_dirs;
  if (dirs.empty()) dirs.push_back(plugin::default_plugin_dir());
  BERTH_TRY_STATUS(image::validate_registry_options(config_.registry));
  auto plugins =
      plugin::PluginManager::start(config_, dirs, &image::registry_credential_provider());
  if (!plugins) return plugins.error();
  s.plugins = std::move(*plugins);

  // Images: blobs are shared by every storage driver; metadata and layers belong to one.
  auto content = store::ContentStore::open(config_.data_root + "/content");
  if (!content) return content.error().wrap("open content store");
  s.content.emplace(std::move(*content));
  BERTH_TRY_STATUS(check_storage_driver_switch(config_.data_root, s.plugins->storage_name()));
  auto image_store =
      image::ImageStore::open(config_.data_root + "/image/" + s.plugins->storage_name());
  if (!image_store) return image_store.error().wrap("open image store");
  s.image_store = std::move(*image_store);
  std::string scratch = config_.exec_root + "/mounts";
  BERTH_TRY_STATUS(fs::ensure_dir(scratch, 0700));
  s.images = std::make_unique<image::ImageService>(*s.content, *s.image_store, s.plugins->storage(),
                                                   s.events, s.plugins->storage_name(), scratch);
  layer::TarLimits tar_limits{config_.archive_limits.max_layer_size,
                              config_.archive_limits.max_expansion_ratio};
  s.images->set_tar_limits(tar_limits);
  if (auto* transport = s.plugins->registry("http")) {
    std::string downloads = config_.data_root + "/image/downloads";
    BERTH_TRY_STATUS(fs::ensure_dir(downloads, 0700));
    std::string compressed = config_.data_root + "/image/compressed";
    s.puller = std::make_unique<image::ImagePuller>(*s.images, *transport, config_.registry,
                                                    downloads, compressed);
    s.pusher = std::make_unique<image::ImagePusher>(*s.images, *transport, config_.registry,
                                                    downloads, compressed);
  }
  api::register_image_routes(s.router, *s.images, s.puller.get());
  api::register_distribution_routes(s.router, s.puller.get(), s.pusher.get());

  auto volumes = volume::VolumeManager::open(config_.data_root + "/volumes", s.events);
  if (!volumes) return volumes.error().wrap("open volumes");
  s.volumes = std::move(*volumes);
  api::register_volume_routes(s.router, *s.volumes);

  HostInfo host = read_host_info();
  container::ManagerOptions copts;
  copts.data_root = config_.data_root;
  copts.exec_root = config_.exec_root;
  copts.log_max_size = config_.log_opts.max_size;
  copts.log_max_file = config_.log_opts.max_file;
  copts.ncpu = host.ncpu;
  copts.cgroup_v2 = host.cgroup_version == "2";
  copts.tar_limits = tar_limits;
  if (!config_.userns_remap.empty()) {
    // Remapped containers see their image through an idmapped overlay (isolation.linux).
    if (s.plugins->storage_name() != "overlay") {
      return make_error(ErrorCode::kInvalidArgument,
                        "userns-remap needs the overlay storage driver (this berthd uses " +
                            s.plugins->storage_name() + ")");
    }
    auto remap = config::resolve_userns_remap(config_.userns_remap);
    if (!remap) return remap.error();
    log->info("userns-remap: containers' root is host uid {} gid {} ({} ids)", remap->uids.host,
              remap->gids.host, remap->uids.size);
    copts.userns_remap = std::move(*remap);
  }
  s.containers = std::make_unique<container::ContainerManager>(
      copts, *s.images, s.plugins->storage(), s.plugins->isolation(), *s.volumes, s.events);
  s.images->image_users = [&s](const std::string& id) { return s.containers->image_users(id); };
  {
    network::NetworkOptions nopts;
    nopts.records_dir = config_.data_root + "/network";
    nopts.netns_dir = config_.exec_root + "/netns";
    nopts.bip = config_.bip;
    nopts.bridge = config_.bridge;
    nopts.mtu = config_.mtu;
    nopts.icc = config_.icc;
    nopts.dns_upstreams = config_.dns;
    if (!config_.default_address_pools.empty()) {
      nopts.pools.clear();
      for (const auto& p : config_.default_address_pools) {
        auto split = network::split_pool(p.base, p.size);
        if (!split) return split.error().wrap("daemon.json \"default-address-pools\"");
        nopts.pools.insert(nopts.pools.end(), split->begin(), split->end());
      }
    }
    auto networks = network::NetworkManager::open(std::move(nopts), *s.plugins);
    if (!networks) return networks.error().wrap("networks");
    s.networks = std::move(*networks);
    s.containers->set_network_hooks(s.networks.get());
  }
  // Exits reported by the isolation backend reach the container manager; set before restore so
  // that an exit between the backend's start and ours is reconciled by restore's list().
  s.plugins->set_task_exit_sink(s.containers.get());
  BERTH_TRY_STATUS(s.containers->restore());
  // What a kill -9 in the middle of an import, load, commit or rm left goes now, before any
  // client can start a new operation.
  {
    std::set<std::string> container_keys, container_ids;
    for (const auto& c : s.containers->all()) {
      std::lock_guard lock(c->mutex);
      container_keys.insert(c->record.storage_key);
      container_ids.insert(c->record.id);
    }
    if (size_t n = s.networks->release_unknown(container_ids); n > 0) {
      log->warn("released {} network address(es) of containers that no longer exist", n);
    }
    auto report = s.images->reconcile(container_keys);
    if (!report) return report.error().wrap("reconcile the data-root");
    if (!report->snapshots.empty() || !report->blobs.empty() || !report->files.empty()) {
      log->warn("reconciled the data-root after an interrupted operation: removed {} snapshot(s), "
                "{} blob(s), {} layer file(s)",
                report->snapshots.size(), report->blobs.size(), report->files.size());
    }
  }
  api::register_container_routes(s.router, *s.containers);
  api::register_exec_routes(s.router, *s.containers);
  api::register_network_routes(s.router, *s.networks, *s.containers);
  s.builder = std::make_unique<build::Builder>(*s.images, *s.containers, config_.data_root + "/builder");
  if (s.puller) {
    // FROM of an image not here is pulled, as docker build does (anonymously: the legacy
    // builder's credentials for FROM come with the build request, which berthd does not read yet).
    s.builder->set_puller([puller = s.puller.get()](const std::string& name,
                                                    const std::function<void(const std::string&)>& say)
                              -> Result<std::string> {
      auto ref = image::parse_normalized_tagged(name);
      if (!ref) return ref.error();
      auto ctx = container::background_context("build-pull");
      return puller->pull(image::PullRequest{*ref, "", {}},
                          [&](const boost::json::object& m) {
                            // The summary lines ("Digest:", "Status:"), not every layer's progress.
                            if (m.contains("id") || !m.contains("status")) return;
                            say(std::string(m.at("status").as_string()) + "\n");
                          },
                          ctx);
    });
  }
  api::register_build_routes(s.router, *s.builder, *s.images,
                             api::BuildLimits{config_.build_max_context_size, tar_limits});
  api::register_system_df_route(s.router, *s.containers, *s.images, *s.volumes, &s.builder->cache());

  auto deps = std::make_shared<api::SystemDeps>(
      api::SystemDeps{config_, *s.plugins, s.events, *id, host});
  deps->image_count = [&s] { return static_cast<int64_t>(s.images->count()); };
  deps->container_counts = [&s] {
    auto n = s.containers->counts();
    return api::ContainerCounts{n.total, n.running, n.paused, n.stopped};
  };
  deps->open_fds = [] { return count_dir_entries("/proc/self/fd"); };
  deps->thread_count = [] { return count_dir_entries("/proc/self/task"); };
  deps->stopping = [this] { return stopping_.load(); };
  api::register_system_routes(s.router, deps);

  const auto& al = config_.api_limits;
  s.server = std::make_unique<api::Server>(
      s.router, api::ServerLimits{std::chrono::seconds(al.header_timeout_s),
                                  std::chrono::seconds(al.idle_timeout_s),
                                  std::chrono::seconds(al.body_timeout_s),
                                  static_cast<size_t>(al.max_connections)});
  api::TlsSettings tls{config_.tls || config_.tlsverify, config_.tlsverify, config_.tlscacert,
                       config_.tlscert, config_.tlskey};
  BERTH_TRY_STATUS(s.server->listen(config_.hosts, tls));
  for (const auto& h : config_.hosts) {
    if (h.rfind("tcp://", 0) == 0 && !config_.tlsverify) {
      log->warn("API on {} WITHOUT client certificates (opted in): every local user, every "
                "--network host container{} can reach it, and so is root on this host",
                h, api::is_loopback_tcp_host(h) ? "" : " and anyone on the network who can route to it");
    }
  }
  s.server->start();
  log->info("berthd {} ready: data-root={} storage-driver={} isolation-backend={}", kBerthVersion,
            config_.data_root, s.plugins->storage_name(), config_.isolation_backend);
  drop_resident_code();
  return {};
}

void Daemon::stop() {
  auto log = logging::get("daemon");
  stopping_ = true;
  auto& s = *state_;
  if (s.server) {
    s.server->stop();
    if (size_t left = s.server->connection_count(); left > 0) {
      log->warn("{} connections did not finish within the shutdown grace period", left);
    }
  }
  // Containers keep running under their monitors; berthd re-adopts them when it starts again.
  if (s.plugins) s.plugins->set_task_exit_sink(nullptr);
  if (s.containers) s.containers->shutdown();
  s.exec_root.release();
  if (s.server) log->info("berthd stopped");
}

int Daemon::run() {
  // Every thread (server, plugins) inherits this mask; only this thread takes the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGQUIT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto log = logging::get("daemon");
  if (auto s = start(); !s) {
    // Plain text, not a log line: the message may hold the multi-line plugin table.
    std::fprintf(stderr, "berthd: %s\n", s.error().message.c_str());
    stop();
    return 1;
  }
  // Type=notify: the sockets listen and their accept threads run, so the API answers now.
  if (auto s = systemd::notify("READY=1\nSTATUS=serving the API\nMAINPID=" +
                               std::to_string(::getpid()));
      !s) {
    log->warn("{}", s.error().message);
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      log->info("SIGHUP: nothing to reload");
      continue;
    }
    log->info("received {}, shutting down", sig == SIGINT ? "SIGINT" : sig == SIGQUIT ? "SIGQUIT" : "SIGTERM");
    break;
  }
  (void)systemd::notify("STOPPING=1\nSTATUS=shutting down");
  stop();
  return 0;
}

}  // namespace berth::core::daemon
