// The built-in "local" volume driver: named directories under <data-root>/volumes, optionally
// backed by a filesystem mounted from driver options (type/device/o, as Docker's local driver),
// with the bookkeeping the API needs (labels, users, prune, usage) and Docker's copy-up.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/result.hpp"
#include "core/events/event_bus.hpp"

namespace berth::core::volume {

// Docker >= 23 marks volumes a container created for an unnamed mount with this label.
inline constexpr std::string_view kAnonymousLabel = "com.docker.volume.anonymous";

struct Volume {
  std::string name;
  std::string driver = "local";
  std::string mountpoint;  // <volumes_dir>/<name>/_data
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  int64_t created_at = 0;  // unix seconds
  bool anonymous = false;
};

struct PruneResult {
  std::vector<std::string> deleted;
  int64_t reclaimed = 0;  // bytes
};

class VolumeManager {
 public:
  // Loads every volume under `volumes_dir` (created 0701 when missing) and drops what an
  // interrupted create or remove left behind. `events` must outlive the manager.
  static Result<std::unique_ptr<VolumeManager>> open(const std::string& volumes_dir,
                                                     events::EventBus& events);

  ~VolumeManager();
  VolumeManager(const VolumeManager&) = delete;
  VolumeManager& operator=(const VolumeManager&) = delete;

  // Empty name: a random 64-hex name. An existing name returns the existing volume (Docker's
  // idempotent create) unless the request gives labels or options that differ from the stored
  // ones (409). Options are the local driver's "type", "device" and "o" (mount a filesystem, e.g.
  // type=tmpfs,device=tmpfs,o=size=10m); anything else is kInvalidArgument. Anonymous volumes
  // carry the label "com.docker.volume.anonymous"="" (as Docker >= 23).
  Result<Volume> create(const std::string& name, const std::map<std::string, std::string>& labels,
                        const std::map<std::string, std::string>& options, bool anonymous);
  // kNotFound "get <name>: no such volume".
  Result<Volume> get(const std::string& name) const;
  // Sorted by name.
  std::vector<Volume> list() const;
  // In use: kFailedPrecondition "remove <name>: volume is in use - [<ids>]" (force or not, as
  // dockerd). force: a missing volume is success, and a data directory that cannot be deleted
  // does not keep the volume registered.
  Status remove(const std::string& name, bool force);
  // Removes unused volumes: anonymous ones only unless `all` (or the filter all=true); filters
  // "label" and "label!" (key or key=value). Reports the bytes the removed volumes held.
  Result<PruneResult> prune(const std::map<std::string, std::set<std::string>>& filters, bool all);

  // Containers using a volume: the container manager registers them at create and at daemon
  // start, and unregisters them at container removal. Unknown volume names are ignored.
  void add_user(const std::string& name, const std::string& container_id);
  void remove_user(const std::string& name, const std::string& container_id);
  // Sorted container ids.
  std::vector<std::string> users(const std::string& name) const;

  // Apparent size of the volume's content as dockerd counts it (regular files and symlinks,
  // each hard-linked inode once, directories not counted).
  Result<int64_t> size(const std::string& name) const;

  // Makes the volume usable for a container start: mounts a type/device/o volume on its _data
  // the first time (no-op for a plain directory), counting references; unmount() releases one
  // and unmounts at zero. Call both for every volume mount of a container, plain or not: a
  // volume with references left is in use for remove() even without registered users.
  Status mount(const std::string& name);
  Status unmount(const std::string& name);

  // Docker's copy-up: when the volume's _data is empty, copies the content of `source_dir` (the
  // image's directory at the mount point, in a rootfs the caller mounted) into it, keeping
  // owners, modes, times, xattrs, symlinks (never followed), hard links, devices and fifos, and
  // gives _data the owner and mode of source_dir. A non-empty volume is left alone; a missing
  // source_dir copies nothing. A volume with mount options that is not mounted is mounted for
  // the copy and unmounted after it, as dockerd does (so a tmpfs volume keeps nothing).
  Status copy_up(const std::string& name, const std::string& source_dir);
  // The same with the source given as `container_path` inside `rootfs`, resolved there with
  // every symlink kept inside rootfs (RESOLVE_IN_ROOT).
  Status copy_up(const std::string& name, const std::string& rootfs,
                 const std::string& container_path);

  const std::string& volumes_dir() const { return dir_; }

 private:
  struct Entry;

  VolumeManager(std::string dir, events::EventBus& events)
      : dir_(std::move(dir)), events_(events) {}
  Status load();
  std::shared_ptr<Entry> find(const std::string& name) const;
  Status copy_up_fd(const std::string& name, int source_fd);
  void publish(const std::string& action, const std::string& name);

  std::string dir_;
  events::EventBus& events_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> volumes_;
};

// Docker's rule for local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at least).
bool valid_volume_name(std::string_view name);

}  // namespace berth::core::volume
