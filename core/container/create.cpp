// Containers: create (name, etc files, volumes, snapshot, record) and rename, which shares
// create's rule for names another container holds.
#include "core/common/json_fields.hpp"
#include "core/common/json_text.hpp"
#include "core/container/container_manager.hpp"
#include "core/container/lifecycle_common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "berth/sdk/codec.hpp"
#include "berth/sdk/mount.hpp"
#include "core/common/fs.hpp"
#include "core/common/label_filter.hpp"
#include "core/common/ids.hpp"
#include "core/common/logging.hpp"
#include "core/common/sha256.hpp"
#include "core/common/time.hpp"
#include "core/container/oci_spec.hpp"
#include "core/container/status_text.hpp"
#include "core/image/reference.hpp"

namespace json = boost::json;

namespace berth::core::container {

using lifecycle::no_such_container;

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

}  // namespace

// ---- create --------------------------------------------------------------------------------

namespace {
// dockerd's words for a name another container holds (create and rename).
Error name_in_use(const std::string& name, const std::string& holder_id) {
  return make_error(ErrorCode::kAlreadyExists,
                    "Conflict. The container name \"" + name + "\" is already in use by container \"" +
                        holder_id + "\". You have to remove (or rename) that container to be able to "
                        "reuse that name.");
}
}  // namespace

Result<std::string> ContainerManager::unique_name(const std::string& requested, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!requested.empty()) {
    BERTH_TRY_STATUS(validate_name(requested));
    std::string name = requested[0] == '/' ? requested : "/" + requested;
    if (auto it = names_.find(name); it != names_.end()) {
      return name_in_use(name, it->second);
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
  NetworkAttachment net;
  if (network_hooks_ != nullptr) net = network_hooks_->etc_entries(rec);
  hosts += net.hosts;
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
  } else if (!net.resolv.empty()) {
    resolv = net.resolv;
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

Status ContainerManager::prepare_volumes(sdk::Context& ctx, ContainerRecord& rec, const image::ResolvedImage& image,
                                         std::vector<std::string>& created,
                                         const config::UsernsRemap* remap) {
  std::optional<sdk::ScopedMounts> rootfs;  // mounted once, only when a new volume wants copy-up
  std::string rootfs_dir = options_.exec_root + "/mounts/copyup-" + rec.id;
  auto image_root = [&]() -> Result<std::string> {
    if (rootfs) return rootfs_dir;
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

Result<ContainerManager::Created> ContainerManager::create(sdk::Context& ctx, const std::string& name,
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
  auto mounts = storage_.prepare(ctx, rec.storage_key, image->record.top_chain, snapshot_labels);
  if (!mounts) return undo(mounts.error().wrap("prepare root filesystem"));
  snapshot = true;
  if (auto s = prepare_volumes(ctx, rec, *image, created_volumes, *remap); !s) return undo(s.error());
  if (network_hooks_ != nullptr) {
    if (auto s = network_hooks_->reserve(rec); !s) return undo(s.error());
  }
  if (auto s = write_etc_files(rec, *remap); !s) {
    if (network_hooks_ != nullptr) network_hooks_->release(rec.id);
    return undo(s.error());
  }
  if (auto s = save_record(containers_dir(), rec); !s) {
    if (network_hooks_ != nullptr) network_hooks_->release(rec.id);
    return undo(s.error());
  }
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
      // dockerd's rename says which step failed before the conflict itself.
      Error e = name_in_use(full, it->second);
      e.message = "Error when allocating new name: " + e.message;
      return e;
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

}  // namespace berth::core::container
