#include "core/volume/volume_manager.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <utility>

#include "berth/sdk/fs.hpp"
#include "core/common/fs.hpp"
#include "core/common/ids.hpp"
#include "core/common/label_filter.hpp"
#include "core/common/logging.hpp"
#include "core/common/unique_fd.hpp"
#include "core/layer/safe_path.hpp"
#include "core/volume/local_mount.hpp"
#include "core/volume/tree_copy.hpp"

namespace json = boost::json;

namespace berth::core::volume {

// Per-volume state. `volume` and `users` are guarded by the manager's mu_; the mount state by
// `op`, which also serializes mount, unmount, copy-up and remove of this one volume.
struct VolumeManager::Entry {
  Volume volume;
  std::set<std::string> users;
  std::mutex op;
  int mounts = 0;
  bool mounted = false;
  bool removed = false;
};

namespace {

constexpr std::string_view kMetadataFile = "volume.json";
constexpr std::string_view kDataDir = "_data";
// Names starting with "." can never be volumes (the name rule wants [a-zA-Z0-9] first), so
// work in progress lives under them and open() can sweep what a crash left.
constexpr std::string_view kCreatingPrefix = ".creating-";
constexpr std::string_view kRemovingPrefix = ".removing-";

bool name_char(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '.' || c == '-');
}

Error not_found(const std::string& name) {
  return make_error(ErrorCode::kNotFound, "get " + name + ": no such volume");
}

bool needs_mount(const Volume& v) {
  return v.options.contains("type") || v.options.contains("device") || v.options.contains("o");
}

Status validate_options(const std::string& name, const std::map<std::string, std::string>& opts) {
  if (opts.empty()) return {};
  for (const auto& [key, _] : opts) {
    if (key == "size") {
      // dockerd only accepts it on a filesystem with project quotas, which we do not set up.
      return make_error(ErrorCode::kInvalidArgument,
                        "create " + name + ": quota size requested but no quota support");
    }
    if (key != "type" && key != "device" && key != "o") {
      return make_error(ErrorCode::kInvalidArgument,
                        "create " + name + ": invalid option: \"" + key + "\"");
    }
  }
  for (const char* required : {"device", "type"}) {
    if (!opts.contains(required)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "create " + name + ": missing required option: \"" + required + "\"");
    }
  }
  return {};
}

// Mounts the filesystem a volume's options describe on its _data.
Status mount_options_of(const Volume& v) {
  auto opt = [&](const char* key) {
    auto it = v.options.find(key);
    return it == v.options.end() ? std::string() : it->second;
  };
  return mount_filesystem(opt("device"), v.mountpoint, opt("type"), opt("o"));
}

json::object string_map_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

std::map<std::string, std::string> string_map(const json::value* v) {
  std::map<std::string, std::string> out;
  if (v == nullptr || !v->is_object()) return out;
  for (const auto& [k, val] : v->get_object()) {
    if (val.is_string()) out[std::string(k)] = std::string(val.get_string());
  }
  return out;
}

std::string metadata_json(const Volume& v) {
  json::object o;
  o["Name"] = v.name;
  o["CreatedAt"] = v.created_at;
  o["Labels"] = string_map_json(v.labels);
  o["Options"] = string_map_json(v.options);
  o["Anonymous"] = v.anonymous;
  return json::serialize(o) + "\n";
}

Result<bool> parse_bool_filter(const std::set<std::string>& values) {
  if (values.empty()) return false;
  if (values.size() > 1) {
    return make_error(ErrorCode::kInvalidArgument, "filter 'all' takes one value");
  }
  const auto& v = *values.begin();
  if (v == "true" || v == "1" || v == "True") return true;
  if (v == "false" || v == "0" || v == "False") return false;
  return make_error(ErrorCode::kInvalidArgument, "invalid filter 'all=" + v + "'");
}

// du of a tree with dockerd's counting: apparent sizes of non-directories, each inode once.
void add_sizes(int dirfd, std::set<std::pair<dev_t, ino_t>>& seen, int64_t& total) {
  auto names = layer::list_dir(dirfd);
  if (!names) return;  // vanished or unreadable: count what can be counted
  for (const auto& name : *names) {
    struct stat st {};
    if (!layer::lstat_at(dirfd, name, &st)) continue;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd child(::openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (child) add_sizes(child.get(), seen, total);
      continue;
    }
    if (st.st_size == 0) continue;
    if (st.st_nlink > 1 && !seen.emplace(st.st_dev, st.st_ino).second) continue;
    total += st.st_size;
  }
}

}  // namespace

bool valid_volume_name(std::string_view name) {
  if (name.size() < 2) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0)) return false;
  }
  return true;
}

VolumeManager::~VolumeManager() = default;

Result<std::unique_ptr<VolumeManager>> VolumeManager::open(const std::string& volumes_dir,
                                                           events::EventBus& events) {
  // 0701: other users may reach a _data they are given a path to, but cannot list volumes.
  BERTH_TRY_STATUS(fs::ensure_dir(volumes_dir, 0701));
  // Mount points are compared with /proc/self/mountinfo, which shows canonical paths.
  char* real = ::realpath(volumes_dir.c_str(), nullptr);
  if (real == nullptr) return errno_error("open volumes directory " + volumes_dir);
  std::string dir(real);
  ::free(real);
  std::unique_ptr<VolumeManager> m(new VolumeManager(std::move(dir), events));
  BERTH_TRY_STATUS(m->load());
  return m;
}

Status VolumeManager::load() {
  auto root = layer::open_root(dir_);
  if (!root) return std::move(root).error().wrap("open volumes");
  auto names = layer::list_dir(root->get());
  if (!names) return std::move(names).error().wrap("list volumes in " + dir_);
  auto log = logging::get("volume");
  for (const auto& name : *names) {
    if (name.starts_with(".")) {
      if (name.starts_with(kCreatingPrefix) || name.starts_with(kRemovingPrefix)) {
        if (auto st = sdk::fs::remove_tree_at(root->get(), name); !st) {
          log->warn("volumes: cannot clean up {}/{}: {}", dir_, name, st.error().message);
        }
      }
      continue;
    }
    struct stat st {};
    if (!layer::lstat_at(root->get(), name, &st) || !S_ISDIR(st.st_mode)) continue;
    if (!valid_volume_name(name)) continue;
    std::string base = dir_ + "/" + name;
    struct stat data {};
    if (::lstat((base + "/" + std::string(kDataDir)).c_str(), &data) != 0 ||
        !S_ISDIR(data.st_mode)) {
      log->warn("volumes: {} has no {} directory; skipped", base, kDataDir);
      continue;
    }
    auto entry = std::make_shared<Entry>();
    Volume& v = entry->volume;
    v.name = name;
    v.mountpoint = base + "/" + std::string(kDataDir);
    v.created_at = st.st_ctim.tv_sec;
    // A volume directory without metadata (made by hand or by another engine) is still a
    // volume, as dockerd's local driver sees every directory there.
    auto text = fs::read_file(base + "/" + std::string(kMetadataFile));
    if (text) {
      json::error_code ec;
      json::value meta = json::parse(*text, ec);
      if (ec || !meta.is_object()) {
        log->warn("volumes: {}/{} is not valid JSON; labels and options are lost", base,
                  kMetadataFile);
      } else {
        const auto& o = meta.get_object();
        if (const auto* c = o.if_contains("CreatedAt"); c != nullptr && c->is_int64()) {
          v.created_at = c->get_int64();
        }
        v.labels = string_map(o.if_contains("Labels"));
        v.options = string_map(o.if_contains("Options"));
        if (const auto* a = o.if_contains("Anonymous"); a != nullptr && a->is_bool()) {
          v.anonymous = a->get_bool();
        }
      }
    }
    // Still mounted from before a daemon restart (containers may have survived it): remember
    // it so the next unmount at zero, or remove, takes it down.
    entry->mounted = needs_mount(v) && is_mount_point(v.mountpoint);
    volumes_[name] = std::move(entry);
  }
  return {};
}

std::shared_ptr<VolumeManager::Entry> VolumeManager::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  return it == volumes_.end() ? nullptr : it->second;
}

void VolumeManager::publish(const std::string& action, const std::string& name) {
  events::Event e;
  e.type = "volume";
  e.action = action;
  e.actor_id = name;
  e.attributes["driver"] = "local";
  events_.publish(std::move(e));
}

Result<Volume> VolumeManager::create(const std::string& requested,
                                     const std::map<std::string, std::string>& labels,
                                     const std::map<std::string, std::string>& options,
                                     bool anonymous) {
  std::string name = requested.empty() ? random_hex(32) : requested;
  Volume v;
  {
    std::lock_guard lock(mu_);
    if (auto it = volumes_.find(name); it != volumes_.end()) {
      const Volume& existing = it->second->volume;
      // dockerd returns an existing volume as is; a request that asks for different labels or
      // options would silently not get them, so that is refused instead.
      if ((!labels.empty() && labels != existing.labels) ||
          (!options.empty() && options != existing.options)) {
        return make_error(
            ErrorCode::kAlreadyExists,
            "create " + name + ": a volume with this name already exists with different " +
                (!labels.empty() && labels != existing.labels ? "labels" : "options"));
      }
      return existing;
    }
    if (!valid_volume_name(name)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "create " + name + ": \"" + name +
                            "\" includes invalid characters for a local volume name, only "
                            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed");
    }
    BERTH_TRY_STATUS(validate_options(name, options));

    v.name = name;
    v.mountpoint = dir_ + "/" + name + "/" + std::string(kDataDir);
    v.labels = labels;
    if (anonymous) v.labels[std::string(kAnonymousLabel)] = "";
    v.options = options;
    v.created_at = static_cast<int64_t>(std::time(nullptr));
    v.anonymous = anonymous;

    // Built under a temporary name and renamed into place: a crash never leaves a volume
    // without its metadata, and the sweep in load() removes the leftovers.
    std::string tmp = dir_ + "/" + std::string(kCreatingPrefix) + random_hex(8);
    auto fail = [&](Error e) {
      (void)fs::remove_all(tmp);
      return std::move(e).wrap("create " + name);
    };
    if (::mkdir(tmp.c_str(), 0755) != 0) return errno_error("create " + name + ": mkdir " + tmp);
    std::string data = tmp + "/" + std::string(kDataDir);
    if (::mkdir(data.c_str(), 0755) != 0 || ::chmod(data.c_str(), 0755) != 0) {
      return fail(errno_error("mkdir " + data));
    }
    if (auto st = fs::atomic_write(tmp + "/" + std::string(kMetadataFile), metadata_json(v), 0600);
        !st) {
      return fail(std::move(st).error());
    }
    std::string final_dir = dir_ + "/" + name;
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
      return fail(errno_error("rename " + tmp + " to " + final_dir));
    }
    if (auto st = fs::fsync_dir(dir_); !st) {
      logging::get("volume")->warn("create {}: {}", name, st.error().message);
    }
    auto entry = std::make_shared<Entry>();
    entry->volume = v;
    volumes_[name] = std::move(entry);
  }
  publish("create", name);
  return v;
}

Result<Volume> VolumeManager::get(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return not_found(name);
  return it->second->volume;
}

std::vector<Volume> VolumeManager::list() const {
  std::lock_guard lock(mu_);
  std::vector<Volume> out;
  out.reserve(volumes_.size());
  for (const auto& [_, e] : volumes_) out.push_back(e->volume);
  return out;
}

Status VolumeManager::remove(const std::string& name, bool force) {
  auto entry = find(name);
  if (!entry) {
    if (force) return {};
    return not_found(name);
  }
  std::string trash;
  {
    std::lock_guard op(entry->op);
    if (entry->removed) {
      if (force) return {};
      return not_found(name);
    }
    std::lock_guard lock(mu_);
    if (!entry->users.empty() || entry->mounts > 0) {
      std::string ids;
      for (const auto& id : entry->users) ids += (ids.empty() ? "" : " ") + id;
      return make_error(ErrorCode::kFailedPrecondition,
                        "remove " + name + ": volume is in use - [" + ids + "]");
    }
    if (entry->mounted) {
      if (auto st = unmount_filesystem(entry->volume.mountpoint); !st) {
        if (!force) return std::move(st).error().wrap("remove " + name);
        logging::get("volume")->warn("remove {}: {}", name, st.error().message);
      }
      entry->mounted = false;
    }
    // Renamed away first so the name is free at once and a crash during the (possibly long)
    // deletion leaves only a leftover that the next start sweeps.
    trash = dir_ + "/" + std::string(kRemovingPrefix) + name + "-" + random_hex(4);
    std::string path = dir_ + "/" + name;
    if (::rename(path.c_str(), trash.c_str()) != 0) {
      auto err = errno_error("remove " + name + ": rename " + path);
      if (!force) return err;
      logging::get("volume")->warn("{}", err.message);
      trash.clear();
    }
    entry->removed = true;
    volumes_.erase(name);
  }
  if (!trash.empty()) {
    if (auto st = fs::remove_all(trash); !st) {
      logging::get("volume")->warn("remove {}: {}", name, st.error().message);
    }
  }
  publish("destroy", name);
  return {};
}

Result<PruneResult> VolumeManager::prune(
    const std::map<std::string, std::set<std::string>>& filters, bool all) {
  for (const auto& [key, values] : filters) {
    if (key != "label" && key != "label!" && key != "all") {
      return make_error(ErrorCode::kInvalidArgument, "invalid filter '" + key + "'");
    }
  }
  if (auto it = filters.find("all"); it != filters.end()) {
    auto value = parse_bool_filter(it->second);
    if (!value) return std::move(value).error();
    all = all || *value;
  }
  auto matches = [&](const Volume& v) {
    if (!all && !v.anonymous && !v.labels.contains(std::string(kAnonymousLabel))) return false;
    if (auto it = filters.find("label"); it != filters.end() && !labels_match(v.labels, it->second)) {
      return false;
    }
    if (auto it = filters.find("label!"); it != filters.end() && !labels_match_none(v.labels, it->second)) {
      return false;
    }
    return true;
  };
  std::vector<std::string> candidates;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, e] : volumes_) {
      if (e->users.empty() && matches(e->volume)) candidates.push_back(name);
    }
  }
  PruneResult result;
  for (const auto& name : candidates) {
    auto bytes = size(name);
    // remove() checks again: a container may have started using it meanwhile.
    if (auto st = remove(name, false); !st) {
      logging::get("volume")->info("prune: skipping {}: {}", name, st.error().message);
      continue;
    }
    result.deleted.push_back(name);
    if (bytes) result.reclaimed += *bytes;
  }
  return result;
}

void VolumeManager::add_user(const std::string& name, const std::string& container_id) {
  std::lock_guard lock(mu_);
  if (auto it = volumes_.find(name); it != volumes_.end()) it->second->users.insert(container_id);
}

void VolumeManager::remove_user(const std::string& name, const std::string& container_id) {
  std::lock_guard lock(mu_);
  if (auto it = volumes_.find(name); it != volumes_.end()) it->second->users.erase(container_id);
}

std::vector<std::string> VolumeManager::users(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return {};
  return {it->second->users.begin(), it->second->users.end()};
}

Result<int64_t> VolumeManager::size(const std::string& name) const {
  std::string mountpoint;
  {
    std::lock_guard lock(mu_);
    auto it = volumes_.find(name);
    if (it == volumes_.end()) return not_found(name);
    mountpoint = it->second->volume.mountpoint;
  }
  UniqueFd fd(::open(mountpoint.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return errno_error("size of volume " + name);
  std::set<std::pair<dev_t, ino_t>> seen;
  int64_t total = 0;
  add_sizes(fd.get(), seen, total);
  return total;
}

Status VolumeManager::mount(const std::string& name) {
  auto entry = find(name);
  if (!entry) return not_found(name);
  std::lock_guard op(entry->op);
  if (entry->removed) return not_found(name);
  const Volume& v = entry->volume;
  if (needs_mount(v) && !entry->mounted) {
    if (auto st = mount_options_of(v); !st)
      return std::move(st).error().wrap("mount volume " + name);
    entry->mounted = true;
  }
  ++entry->mounts;
  return {};
}

Status VolumeManager::unmount(const std::string& name) {
  auto entry = find(name);
  if (!entry) return not_found(name);
  std::lock_guard op(entry->op);
  if (entry->removed) return not_found(name);
  // Decremented even if the unmount fails, as dockerd: otherwise the volume could never be
  // removed until a restart.
  if (entry->mounts > 0) --entry->mounts;
  if (entry->mounts > 0 || !entry->mounted) return {};
  if (auto st = unmount_filesystem(entry->volume.mountpoint); !st) {
    return std::move(st).error().wrap("unmount volume " + name);
  }
  entry->mounted = false;
  return {};
}

Status VolumeManager::copy_up_fd(const std::string& name, int source_fd) {
  auto entry = find(name);
  if (!entry) return not_found(name);
  std::lock_guard op(entry->op);
  if (entry->removed) return not_found(name);
  const Volume& v = entry->volume;
  const std::string& mountpoint = v.mountpoint;
  // Like dockerd, a volume with a filesystem of its own is mounted for the copy (the content
  // must land on it, not in the directory it covers) and released afterwards.
  bool mounted_here = false;
  if (needs_mount(v) && !entry->mounted) {
    if (auto st = mount_options_of(v); !st) {
      return std::move(st).error().wrap("copy up into volume " + name);
    }
    mounted_here = true;
  }
  struct Release {
    bool active;
    const std::string& target;
    ~Release() {
      if (active) (void)unmount_filesystem(target);
    }
  } release{mounted_here, mountpoint};
  UniqueFd data(::open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!data) return errno_error("copy up into volume " + name + ": open " + mountpoint);
  auto existing = layer::list_dir(data.get());
  if (!existing) return std::move(existing).error().wrap("copy up into volume " + name);
  // dockerd copies only into an empty volume: once written, the volume's content wins.
  if (!existing->empty()) return {};
  if (auto st = copy_tree(source_fd, data.get()); !st) {
    return std::move(st).error().wrap("copy up into volume " + name);
  }
  if (auto st = copy_owner_and_mode(source_fd, data.get()); !st) {
    return std::move(st).error().wrap("copy up into volume " + name);
  }
  return {};
}

Status VolumeManager::copy_up(const std::string& name, const std::string& source_dir) {
  UniqueFd src(::open(source_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!src) {
    if (errno == ENOENT) {
      if (!find(name)) return not_found(name);
      return {};  // the image has nothing at the mount point
    }
    return errno_error("copy up into volume " + name + ": open " + source_dir);
  }
  return copy_up_fd(name, src.get());
}

Status VolumeManager::copy_up(const std::string& name, const std::string& rootfs,
                              const std::string& container_path) {
  auto root = layer::open_root(rootfs);
  if (!root) return std::move(root).error().wrap("copy up into volume " + name);
  auto parts = layer::clean_path(container_path);
  if (!parts) return std::move(parts).error().wrap("copy up into volume " + name);
  UniqueFd src(layer::open_dir_fd(root->get(), *parts, parts->size(),
                                  RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, O_RDONLY));
  if (!src) {
    if (errno == ENOENT) {
      if (!find(name)) return not_found(name);
      return {};
    }
    return layer::path_error("copy up into volume " + name + ": open", container_path, errno);
  }
  return copy_up_fd(name, src.get());
}

}  // namespace berth::core::volume
