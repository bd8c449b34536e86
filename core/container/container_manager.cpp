// Containers: lookups, create, rename, update, prune, and the manager's workers. Each verb of
// the lifecycle has its file (start.cpp, stop_kill.cpp, pause.cpp, remove.cpp, exits.cpp,
// wait_attach.cpp, restore.cpp); execs are in exec.cpp, filesystem views in container_fs.cpp,
// the JSON clients see (inspect, list) in core/api/views/.
#include "core/common/json_fields.hpp"
#include "core/common/json_text.hpp"
#include "core/container/container_manager.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "berth/sdk/codec.hpp"
#include "berth/sdk/mount.hpp"
#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"
#include "core/container/oci_spec.hpp"
#include "core/container/status_text.hpp"
#include "core/image/reference.hpp"

namespace json = boost::json;

namespace berth::core::container {
namespace {

using json_fields::str;

// lchown of every entry in `dir` (itself included, symlinks not followed): container ids to
// the host's.
Status shift_owners_to_host(const std::string& dir, const layer::IdShift& ids) {
  auto shift = [&](const std::string& path) -> Status {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return errno_error("stat " + path);
    const uid_t uid = ids.uids.to_host(st.st_uid);
    const gid_t gid = ids.gids.to_host(st.st_gid);
    if ((uid != st.st_uid || gid != st.st_gid) && ::lchown(path.c_str(), uid, gid) != 0) {
      return errno_error("chown " + path);
    }
    return {};
  };
  BERTH_TRY_STATUS(shift(dir));
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    BERTH_TRY_STATUS(shift(it->path().string()));
  }
  if (ec) return make_error(ErrorCode::kInternal, "walk " + dir + ": " + ec.message());
  return {};
}

Error no_such_container(std::string_view name) {
  return make_error(ErrorCode::kNotFound, "No such container: " + std::string(name));
}

}  // namespace

ContainerManager::ContainerManager(ManagerOptions options, image::ImageService& images,
                                   sdk::StorageDriver& storage, sdk::IsolationBackend* isolation,
                                   volume::VolumeManager& volumes, events::EventBus& events)
    : options_(std::move(options)),
      images_(images),
      storage_(storage),
      isolation_(isolation),
      volumes_(volumes),
      events_(events) {
  worker_ = std::thread([this] { worker_loop(); });
  timer_thread_ = std::thread([this] { timer_loop(); });
  health_ = std::make_unique<HealthScheduler>(HealthScheduler::Hooks{
      [this](const std::string& id, const std::string& exec_id, const std::vector<std::string>& argv) {
        return launch_probe(id, exec_id, argv);
      },
      [this](const std::string& id, uint64_t generation, const std::string& exec_id, ProbeResult r) {
        return probe_finished(id, generation, exec_id, std::move(r));
      }});
}

ContainerManager::~ContainerManager() { shutdown(); }

void ContainerManager::shutdown() {
  if (stopping_.exchange(true)) return;
  if (health_) {
    health_->stop();
    // Probe results are kept in memory between changes of status: write them once now, so a
    // live-restored container keeps its log.
    for (const auto& c : all()) {
      std::lock_guard lock(c->mutex);
      if (c->record.state.health && !c->removed) (void)persist(*c);
    }
  }
  jobs_cv_.notify_all();
  attach_ready_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (timer_thread_.joinable()) timer_thread_.join();
}

void ContainerManager::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mutex_);
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.notify_all();
}

void ContainerManager::worker_loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      logging::get("container")->error("worker job failed: {}", e.what());
    }
  }
}

void ContainerManager::timer_loop() {
  std::unique_lock lock(jobs_mutex_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::seconds(1);
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->at <= now) {
        jobs_.push_back(std::move(it->fn));
        it = timers_.erase(it);
        jobs_cv_.notify_all();
      } else {
        next = std::min(next, it->at);
        ++it;
      }
    }
    jobs_cv_.wait_until(lock, next);
  }
}

void ContainerManager::on_backend_event(std::string_view type, std::string_view payload) {
  if (type != "task-exit") return;
  json::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec || !v.is_object()) return;
  const auto& o = v.get_object();
  std::string id = str(o, "id");
  std::string exec_id = str(o, "exec_id");
  ExitInfo info;
  if (const auto* c = o.if_contains("exit_code"); c != nullptr && c->is_number()) {
    info.exit_code = static_cast<int>(c->to_number<int64_t>());
  }
  if (const auto* c = o.if_contains("oom_killed"); c != nullptr && c->is_bool()) info.oom_killed = c->get_bool();
  if (const auto* c = o.if_contains("exited_at_unix_nano"); c != nullptr && c->is_number()) {
    info.exited_at = c->to_number<int64_t>();
  }
  if (const auto* c = o.if_contains("pid"); c != nullptr && c->is_number()) {
    info.pid = static_cast<int>(c->to_number<int64_t>());
  }
  if (info.exited_at == 0) info.exited_at = now_unix_nano();
  // A healthcheck probe's exit goes to the scheduler (no ExecRecord is kept for probes).
  if (!exec_id.empty() && health_ && health_->exec_exited(exec_id, info.exit_code)) return;
  post([this, id, exec_id, info] {
    if (!exec_id.empty()) {
      std::shared_ptr<ExecRecord> exec;
      {
        std::lock_guard lock(mutex_);
        auto it = execs_.find(exec_id);
        if (it != execs_.end()) exec = it->second;
      }
      if (!exec) return;
      auto c = find(exec->container_id);
      if (!c) return;
      {
        std::lock_guard lock((*c)->mutex);
        exec->running = false;
        // An exec that could not start already has dockerd's 126.
        if (!exec->exit_code) exec->exit_code = info.exit_code;
      }
      (*c)->changed.notify_all();
      std::string cmd;
      if (const auto* a = exec->config.if_contains("Cmd"); a != nullptr && a->is_array()) {
        for (const auto& s : a->get_array()) {
          if (s.is_string()) cmd += (cmd.empty() ? "" : " ") + std::string(s.get_string());
        }
      }
      publish(**c, "exec_die", {{"execID", exec_id}, {"exitCode", std::to_string(info.exit_code)}});
      return;
    }
    auto c = find(id);
    if (!c) return;
    handle_exit(*c, info);
  });
}

// ---- lookups -------------------------------------------------------------------------------

Result<std::shared_ptr<Container>> ContainerManager::find(std::string_view name_or_id) const {
  if (name_or_id.empty()) return no_such_container(name_or_id);
  std::lock_guard lock(mutex_);
  if (auto it = containers_.find(std::string(name_or_id)); it != containers_.end()) return it->second;
  std::string name = name_or_id[0] == '/' ? std::string(name_or_id) : "/" + std::string(name_or_id);
  if (auto it = names_.find(name); it != names_.end()) return containers_.at(it->second);
  std::shared_ptr<Container> found;
  for (const auto& [id, c] : containers_) {
    if (id.compare(0, name_or_id.size(), name_or_id) == 0) {
      if (found) {
        return make_error(ErrorCode::kInvalidArgument,
                          "multiple IDs found with provided prefix: " + std::string(name_or_id));
      }
      found = c;
    }
  }
  if (found) return found;
  return no_such_container(name_or_id);
}

std::vector<std::shared_ptr<Container>> ContainerManager::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Container>> out;
  for (const auto& [_, c] : containers_) out.push_back(c);
  return out;
}

image::ImageUsers ContainerManager::image_users(const std::string& image_id) const {
  image::ImageUsers users;
  for (const auto& c : all()) {
    std::lock_guard lock(c->mutex);
    if (c->record.image_id != image_id) continue;
    (is_running(c->record.state.status) ? users.running : users.stopped).push_back(c->record.id);
  }
  return users;
}

ContainerManager::Counts ContainerManager::counts() const {
  Counts n;
  for (const auto& c : all()) {
    std::lock_guard lock(c->mutex);
    ++n.total;
    auto s = c->record.state.status;
    if (s == State::kPaused) ++n.paused;
    else if (s == State::kRunning || s == State::kRestarting) ++n.running;
    else ++n.stopped;
  }
  return n;
}

Status ContainerManager::persist(Container& c) {
  return save_record(containers_dir(), c.record);
}

void ContainerManager::publish(const Container& c, const std::string& action,
                               std::map<std::string, std::string> extra) const {
  events::Event e;
  e.type = "container";
  e.action = action;
  e.actor_id = c.record.id;
  e.attributes = c.record.labels();
  e.attributes["image"] = c.record.image;
  e.attributes["name"] = c.record.bare_name();
  for (auto& [k, v] : extra) e.attributes[k] = std::move(v);
  events_.publish(std::move(e));
}

// ---- create --------------------------------------------------------------------------------

Result<std::string> ContainerManager::unique_name(const std::string& requested, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!requested.empty()) {
    BERTH_TRY_STATUS(validate_name(requested));
    std::string name = requested[0] == '/' ? requested : "/" + requested;
    if (auto it = names_.find(name); it != names_.end()) {
      return make_error(ErrorCode::kAlreadyExists,
                        "Conflict. The container name \"" + name + "\" is already in use by container \"" +
                            it->second + "\". You have to remove (or rename) that container to be able to "
                            "reuse that name.");
    }
    names_[name] = id;
    return name;
  }
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::string name = "/" + generate_name(attempt);
    if (!names_.contains(name)) {
      names_[name] = id;
      return name;
    }
  }
  std::string name = "/" + id.substr(0, 12);
  names_[name] = id;
  return name;
}

Result<const config::UsernsRemap*> ContainerManager::userns_remap_for(
    const json::object& hc) const {
  if (!options_.userns_remap || str(hc, "UsernsMode") == "host") return nullptr;
  // dockerd's checks and wording (daemon_unix.go): these need the host's user namespace.
  if (json_fields::flag(hc, "Privileged")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "privileged mode is incompatible with user namespaces.  You must run the "
                      "container in the host namespace when running privileged mode");
  }
  if (str(hc, "NetworkMode") == "host") {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot share the host's network namespace when user namespaces are enabled");
  }
  if (str(hc, "PidMode") == "host") {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot share the host PID namespace when user namespaces are enabled");
  }
  return &*options_.userns_remap;
}

layer::IdShift ContainerManager::id_shift(const config::UsernsRemap* remap) {
  layer::IdShift ids;
  if (remap != nullptr) {
    ids.uids = {remap->uids.host, remap->uids.size};
    ids.gids = {remap->gids.host, remap->gids.size};
  }
  return ids;
}

Status ContainerManager::write_etc_files(ContainerRecord& rec, const config::UsernsRemap* owner) {
  auto dir = std::filesystem::path(containers_dir()) / rec.id;
  std::string mode = str(rec.host_config, "NetworkMode");
  std::string hostname = str(rec.config, "Hostname");
  rec.hostname_path = (dir / "hostname").string();
  rec.hosts_path = (dir / "hosts").string();
  rec.resolv_conf_path = (dir / "resolv.conf").string();
  // No fsync: start_task rewrites these before every start, so a crash can cost nothing. A file
  // that already says the same is left alone (a restart usually changes nothing).
  constexpr auto kVolatile = fs::Durability::kVolatile;
  BERTH_TRY_STATUS(fs::write_if_changed(rec.hostname_path, hostname + "\n", 0644, kVolatile));
  std::string hosts;
  if (mode == "host") {
    auto host_hosts = fs::read_file("/etc/hosts");
    hosts = host_hosts ? *host_hosts : "127.0.0.1\tlocalhost\n";
  } else {
    hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n";
  }
  if (const auto* extra = rec.host_config.if_contains("ExtraHosts"); extra != nullptr && extra->is_array()) {
    for (const auto& e : extra->get_array()) {
      if (!e.is_string()) continue;
      std::string entry(e.get_string());
      auto sep = entry.find_first_of(":=");
      if (sep == std::string::npos) {
        return make_error(ErrorCode::kInvalidArgument, "invalid extra host entry \"" + entry + "\"");
      }
      hosts += entry.substr(sep + 1) + "\t" + entry.substr(0, sep) + "\n";
    }
  }
  BERTH_TRY_STATUS(fs::write_if_changed(rec.hosts_path, hosts, 0644, kVolatile));
  // The host's resolver, minus loopback servers a separate network namespace cannot reach.
  std::string resolv;
  std::vector<std::string> dns;
  if (const auto* d = rec.host_config.if_contains("Dns"); d != nullptr && d->is_array()) {
    for (const auto& s : d->get_array()) {
      if (s.is_string()) dns.emplace_back(s.get_string());
    }
  }
  if (!dns.empty()) {
    for (const auto& s : dns) resolv += "nameserver " + s + "\n";
  } else if (auto host = fs::read_file("/etc/resolv.conf")) {
    std::istringstream in(*host);
    std::string line;
    while (std::getline(in, line)) {
      if (mode != "host" && line.rfind("nameserver", 0) == 0 &&
          (line.find(" 127.") != std::string::npos || line.find(" ::1") != std::string::npos)) {
        continue;
      }
      resolv += line + "\n";
    }
  }
  BERTH_TRY_STATUS(fs::write_if_changed(rec.resolv_conf_path, resolv, 0644, kVolatile));
  // A remapped container's root owns them, as its own files (dockerd chowns them the same way).
  const uid_t uid = owner != nullptr ? owner->uids.host : 0;
  const gid_t gid = owner != nullptr ? owner->gids.host : 0;
  for (const auto* path : {&rec.hostname_path, &rec.hosts_path, &rec.resolv_conf_path}) {
    struct stat st {};
    if (::lstat(path->c_str(), &st) == 0 && (st.st_uid != uid || st.st_gid != gid) &&
        ::lchown(path->c_str(), uid, gid) != 0) {
      return errno_error("chown " + *path);
    }
  }
  return {};
}

Status ContainerManager::prepare_volumes(ContainerRecord& rec, const image::ResolvedImage& image,
                                         std::vector<std::string>& created,
                                         const config::UsernsRemap* remap) {
  std::optional<sdk::ScopedMounts> rootfs;  // mounted once, only when a new volume wants copy-up
  std::string rootfs_dir = options_.exec_root + "/mounts/copyup-" + rec.id;
  auto image_root = [&]() -> Result<std::string> {
    if (rootfs) return rootfs_dir;
    sdk::Context ctx;
    auto mounts = storage_.mounts(ctx, rec.storage_key);
    if (!mounts) return mounts.error();
    // Read-only: the copy-up only reads the image's files.
    BERTH_TRY_STATUS(fs::ensure_dir(rootfs_dir, 0700));
    auto m = sdk::ScopedMounts::mount(*mounts, rootfs_dir);
    if (!m) return m.error();
    rootfs.emplace(std::move(*m));
    return rootfs_dir;
  };
  for (auto& m : rec.mounts) {
    if (m.type == "bind") {
      std::error_code ec;
      if (!std::filesystem::exists(m.source, ec)) {
        // -v /host:/ctr creates a missing host directory, as dockerd does.
        BERTH_TRY_STATUS(fs::ensure_dir(m.source, 0755));
      }
      continue;
    }
    if (m.type != "volume") continue;
    bool existed = !m.name.empty() && volumes_.get(m.name).has_value();
    auto v = volumes_.create(m.name, {}, {}, m.anonymous);
    if (!v) return v.error();
    m.name = v->name;
    m.source = v->mountpoint;
    m.driver = "local";
    volumes_.add_user(m.name, rec.id);
    if (!existed) created.push_back(m.name);
    if (m.copy_image_data && !image.config.diff_ids().empty()) {
      auto root = image_root();
      if (!root) return root.error().wrap("copy image content into volume " + m.name);
      BERTH_TRY_STATUS(volumes_.copy_up(m.name, *root, m.destination));
    }
    // A new volume of a remapped container is its root's, as its own files (dockerd creates
    // it under the remapped root's data-root).
    if (!existed && remap != nullptr) {
      BERTH_TRY_STATUS(shift_owners_to_host(m.source, id_shift(remap)));
    }
  }
  if (rootfs) {
    (void)rootfs->unmount();
    std::filesystem::remove(rootfs_dir);
  }
  return {};
}

// --storage-opt size: handed to the storage driver as a snapshot label when it can cap a
// snapshot, refused before anything is made when it cannot (dockerd's words for overlay).
Status ContainerManager::size_limit_label(const json::object& host_config, sdk::Labels& labels) {
  auto size = storage_size_limit(host_config);
  if (!size) return size.error();
  if (!*size) return {};
  auto info = storage_.info();
  const auto& caps = info.capabilities;
  if (std::find(caps.begin(), caps.end(), sdk::kSizeLimitCapability) == caps.end()) {
    return make_error(ErrorCode::kInvalidArgument,
                      info.name == "overlay"
                          ? "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"
                          : "--storage-opt size is not supported by the " + info.name +
                                " storage driver");
  }
  labels[std::string(sdk::kSnapshotSizeLabel)] = std::to_string(**size);
  return {};
}

Result<ContainerManager::Created> ContainerManager::create(const std::string& name,
                                                           const json::value& body) {
  auto log = logging::get("container");
  if (isolation_ == nullptr) {
    return make_error(ErrorCode::kUnsupported,
                      "this berthd runs without an isolation backend (isolation-backend: none): "
                      "containers cannot be created");
  }
  if (!body.is_object()) return make_error(ErrorCode::kInvalidArgument, "container config must be a JSON object");
  std::string image_ref = str(body.get_object(), "Image");
  if (image_ref.empty()) return make_error(ErrorCode::kInvalidArgument, "config.Image must be specified");
  auto image = images_.resolve(image_ref);
  if (!image) {
    if (image.error().code == ErrorCode::kNotFound) {
      return make_error(ErrorCode::kNotFound, "No such image: " + image_ref);
    }
    return image.error();
  }
  std::string id = new_object_id();
  CreateDefaults defaults{options_.ncpu, options_.log_max_size, options_.log_max_file, options_.cgroup_v2};
  // --volumes-from names a container by name or id; dockerd refuses one that does not exist as
  // an invalid parameter (400), with the lookup's words.
  auto volumes_from = [this](const std::string& source) -> Result<std::vector<MountPoint>> {
    auto c = find(source);
    if (!c) return make_error(ErrorCode::kInvalidArgument, c.error().message);
    std::lock_guard lock((*c)->mutex);
    return (*c)->record.mounts;
  };
  auto prepared = prepare_create(body, image->config, id, image_ref, defaults, volumes_from);
  if (!prepared) return prepared.error();
  sdk::Labels snapshot_labels{{"berth.container", id}};
  if (auto s = size_limit_label(prepared->host_config, snapshot_labels); !s) return s.error();
  auto remap = userns_remap_for(prepared->host_config);
  if (!remap) return remap.error();
  auto full_name = unique_name(name, id);
  if (!full_name) return full_name.error();

  ContainerRecord rec;
  rec.id = id;
  rec.name = *full_name;
  rec.created = now_unix_nano();
  rec.image = image_ref;
  rec.image_id = image->record.id;
  rec.path = prepared->path;
  rec.args = prepared->args;
  rec.config = std::move(prepared->config);
  rec.host_config = std::move(prepared->host_config);
  rec.networking = std::move(prepared->networking);
  rec.mounts = std::move(prepared->mounts);
  rec.storage_key = "container-" + id;
  rec.log_path = containers_dir() + "/" + id + "/" + id + "-json.log";

  // From here on every failure undoes what was made.
  std::vector<std::string> created_volumes;
  bool snapshot = false;
  auto undo = [&](Error e) -> Error {
    sdk::Context ctx;
    if (snapshot) (void)storage_.remove(ctx, rec.storage_key);
    for (const auto& m : rec.mounts) {
      if (m.type == "volume" && !m.name.empty()) volumes_.remove_user(m.name, id);
    }
    for (const auto& v : created_volumes) (void)volumes_.remove(v, true);
    (void)fs::remove_all(containers_dir() + "/" + id);
    std::lock_guard lock(mutex_);
    names_.erase(rec.name);
    log->warn("create {} failed: {}", id.substr(0, 12), e.message);
    return e;
  };
  if (auto s = fs::ensure_dir(containers_dir() + "/" + id, 0710); !s) return undo(s.error());
  sdk::Context ctx;
  auto mounts = storage_.prepare(ctx, rec.storage_key, image->record.top_chain, snapshot_labels);
  if (!mounts) return undo(mounts.error().wrap("prepare root filesystem"));
  snapshot = true;
  if (auto s = prepare_volumes(rec, *image, created_volumes, *remap); !s) return undo(s.error());
  if (auto s = write_etc_files(rec, *remap); !s) return undo(s.error());
  if (auto s = save_record(containers_dir(), rec); !s) return undo(s.error());
  auto c = std::make_shared<Container>();
  c->record = std::move(rec);
  {
    std::lock_guard lock(mutex_);
    containers_[id] = c;
  }
  publish(*c, "create");
  return Created{id, std::move(prepared->warnings)};
}

Status ContainerManager::rename(std::string_view name, const std::string& new_name) {
  auto c = find(name);
  if (!c) return c.error();
  if (new_name.empty()) return make_error(ErrorCode::kInvalidArgument, "Neither old nor new names may be empty");
  BERTH_TRY_STATUS(validate_name(new_name));
  std::string full = new_name[0] == '/' ? new_name : "/" + new_name;
  std::string old;
  {
    std::lock_guard lock(mutex_);
    std::lock_guard cl((*c)->mutex);
    old = (*c)->record.name;
    if (full == old) {
      return make_error(ErrorCode::kInvalidArgument, "Renaming a container with the same name as its current name");
    }
    if (auto it = names_.find(full); it != names_.end()) {
      return make_error(ErrorCode::kAlreadyExists,
                        "Conflict. The container name \"" + full + "\" is already in use by container \"" +
                            it->second + "\". You have to remove (or rename) that container to be able to "
                            "reuse that name.");
    }
    (*c)->record.name = full;
    if (auto s = persist(**c); !s) {
      (*c)->record.name = old;
      return s;
    }
    names_.erase(old);
    names_[full] = (*c)->record.id;
  }
  publish(**c, "rename", {{"oldName", old}});
  return {};
}

Result<json::object> ContainerManager::update(std::string_view name, const json::object& body) {
  auto c = find(name);
  if (!c) return c.error();
  std::lock_guard op((*c)->op);
  json::object hc;
  {
    std::lock_guard lock((*c)->mutex);
    hc = (*c)->record.host_config;
  }
  static const std::set<std::string> kFields = {
      "BlkioWeight", "CpuShares", "CpuPeriod", "CpuQuota", "NanoCpus", "CpusetCpus", "CpusetMems",
      "Memory", "MemorySwap", "MemoryReservation", "PidsLimit", "RestartPolicy", "KernelMemory",
      "CpuRealtimePeriod", "CpuRealtimeRuntime", "OomKillDisable"};
  for (const auto& [k, v] : body) {
    if (!kFields.contains(std::string(k))) continue;
    // Zero and null mean "leave as is" in docker update's body.
    if (v.is_null() || (v.is_number() && v.to_number<int64_t>() == 0) ||
        (v.is_string() && v.get_string().empty())) {
      continue;
    }
    hc[k] = v;
  }
  if (auto mem = hc.if_contains("Memory"); mem && mem->is_number() && mem->to_number<int64_t>() > 0 &&
                                          mem->to_number<int64_t>() < 6 * 1024 * 1024) {
    return make_error(ErrorCode::kInvalidArgument, "Minimum memory limit allowed is 6MB");
  }
  if (const auto* rp = body.if_contains("RestartPolicy"); rp != nullptr && rp->is_object()) {
    std::string policy = str(rp->get_object(), "Name");
    if (!policy.empty() && policy != "no" && policy != "always" && policy != "unless-stopped" &&
        policy != "on-failure") {
      return make_error(ErrorCode::kInvalidArgument, "invalid restart policy '" + policy + "'");
    }
    bool auto_remove = false;
    {
      std::lock_guard lock((*c)->mutex);
      auto_remove = (*c)->record.auto_remove();
    }
    if (auto_remove && policy != "no" && !policy.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "Restart policy cannot be updated because AutoRemove is enabled for the container");
    }
  }
  bool running = false;
  std::string id;
  {
    std::lock_guard lock((*c)->mutex);
    running = is_running((*c)->record.state.status);
    id = (*c)->record.id;
  }
  if (running && isolation_ != nullptr) {
    SpecContext ctx{"", false, options_.cgroup_v2, true};
    sdk::Context call;
    BERTH_TRY_STATUS(isolation_->update(call, id, json::serialize(build_resources(hc, ctx))));
  }
  {
    std::lock_guard lock((*c)->mutex);
    (*c)->record.host_config = std::move(hc);
    BERTH_TRY_STATUS(persist(**c));
  }
  publish(**c, "update");
  return json::object{{"Warnings", json::array()}};
}

Status ContainerManager::resize(std::string_view name, uint32_t rows, uint32_t cols) {
  auto c = find(name);
  if (!c) return c.error();
  std::string id;
  State s;
  {
    std::lock_guard lock((*c)->mutex);
    id = (*c)->record.id;
    s = (*c)->record.state.status;
  }
  if (!is_running(s)) {
    return make_error(ErrorCode::kFailedPrecondition, "Container " + id + " is not running");
  }
  sdk::Context ctx;
  return isolation_->resize(ctx, id, "", rows, cols);
}

Result<std::pair<std::vector<std::string>, int64_t>> ContainerManager::prune(const Filters& filters) {
  for (const auto& [k, _] : filters) {
    if (k != "until" && k != "label" && k != "label!") {
      return make_error(ErrorCode::kInvalidArgument, "invalid filter '" + k + "'");
    }
  }
  std::optional<int64_t> until;
  if (auto it = filters.find("until"); it != filters.end() && !it->second.empty()) {
    until = parse_timestamp_param(*it->second.begin());
    if (!until) return make_error(ErrorCode::kInvalidArgument, "invalid until filter");
  }
  std::vector<std::string> deleted;
  int64_t reclaimed = 0;
  for (const auto& c : all()) {
    ContainerRecord r;
    {
      std::lock_guard lock(c->mutex);
      r = c->record;
    }
    auto st = r.state.status;
    if (st != State::kExited && st != State::kCreated && st != State::kDead) continue;
    if (until && r.created > *until) continue;
    auto labels = r.labels();
    bool ok = true;
    if (auto it = filters.find("label"); it != filters.end()) {
      for (const auto& v : it->second) {
        auto eq = v.find('=');
        auto l = labels.find(v.substr(0, eq));
        ok = ok && l != labels.end() && (eq == std::string::npos || l->second == v.substr(eq + 1));
      }
    }
    if (auto it = filters.find("label!"); it != filters.end()) {
      for (const auto& v : it->second) {
        auto eq = v.find('=');
        auto l = labels.find(v.substr(0, eq));
        if (l != labels.end() && (eq == std::string::npos || l->second == v.substr(eq + 1))) ok = false;
      }
    }
    if (!ok) continue;
    auto rw = size_rw(*c);
    if (remove(r.id, false, false)) {
      deleted.push_back(r.id);
      reclaimed += rw ? *rw : 0;
    }
  }
  return std::make_pair(std::move(deleted), reclaimed);
}

}  // namespace berth::core::container
