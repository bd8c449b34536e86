// A container: what was asked at create (Config, HostConfig as Docker stores them, merged with
// the image), where its pieces live, and its lifecycle state. One record per container,
// persisted as <data-root>/containers/<id>/config.v2.json on every change.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/common/result.hpp"
#include "core/container/health.hpp"
#include "core/container/state_machine.hpp"

namespace berth::core::container {

// A mount as `docker inspect` shows it and the OCI spec needs it.
struct MountPoint {
  std::string type;         // "bind", "volume", "tmpfs"
  std::string name;         // volume name
  std::string source;       // host path (volume: its _data dir); empty for tmpfs
  std::string destination;  // path in the container
  std::string driver;       // "local" for volumes
  std::string mode;         // as given: "ro", "z", ...
  bool rw = true;
  std::string propagation;  // "", "rprivate", ...
  std::string tmpfs_options;  // "size=64m,mode=1777"
  bool anonymous = false;     // created for this container (removed with rm -v)
  bool copy_image_data = true;  // fill an empty new volume from the image (nocopy disables)
};

struct ContainerState {
  State status = State::kCreated;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  bool oom_killed = false;
  int64_t started_at = 0;   // unix nano; 0 = never
  int64_t finished_at = 0;  // unix nano; 0 = never
  int restart_count = 0;
  bool manually_stopped = false;
  bool has_been_started = false;
  std::optional<HealthState> health;  // once a container with a healthcheck has started
};

struct ExecRecord {
  std::string id;
  std::string container_id;
  boost::json::object config;  // Docker's exec config (Cmd, Env, User, Tty, ...)
  bool running = false;
  bool started = false;
  std::optional<int> exit_code;
  int pid = 0;
  bool detach_keys_custom = false;
  std::string detach_keys;
};

struct ContainerRecord {
  std::string id;
  std::string name;  // with the leading "/"
  int64_t created = 0;
  std::string image;     // as the user gave it ("busybox:local")
  std::string image_id;  // "sha256:<hex>"
  std::string path;
  std::vector<std::string> args;
  boost::json::object config;       // Docker's Config, merged with the image's
  boost::json::object host_config;  // Docker's HostConfig with defaults filled in
  boost::json::object networking;   // NetworkingConfig.EndpointsConfig
  std::vector<MountPoint> mounts;
  ContainerState state;
  std::string storage_key;  // the container's writable snapshot
  std::string log_path;
  std::string hostname_path, hosts_path, resolv_conf_path;

  [[nodiscard]] std::string short_id() const { return id.substr(0, 12); }
  [[nodiscard]] std::string bare_name() const { return name.empty() ? name : name.substr(1); }
  [[nodiscard]] bool tty() const;
  [[nodiscard]] bool open_stdin() const;
  [[nodiscard]] bool stdin_once() const;
  [[nodiscard]] bool auto_remove() const;
  [[nodiscard]] std::string restart_policy() const;  // "no", "always", ...
  [[nodiscard]] int max_retries() const;
  [[nodiscard]] std::map<std::string, std::string> labels() const;
  [[nodiscard]] std::string stop_signal() const;  // "" = SIGTERM
  [[nodiscard]] std::optional<int> stop_timeout() const;
};

boost::json::object to_json(const ContainerRecord& c);
Result<ContainerRecord> record_from_json(const boost::json::object& o);

// Persists and loads records under <data-root>/containers/<id>/.
Status save_record(const std::string& containers_dir, const ContainerRecord& c);
Result<std::vector<ContainerRecord>> load_records(const std::string& containers_dir);

// How a task ended, as the isolation backend reports it.
struct ExitInfo {
  int exit_code = 0;
  bool oom_killed = false;
  int64_t exited_at = 0;  // unix nano
  int pid = 0;
};

// A live container: its record (guarded by `mutex`), and the waiters on it. `op` serializes
// lifecycle operations (start/stop/...) and may be held long; `mutex` is held only briefly, so
// listing and inspecting never wait behind a stuck operation.
struct Container {
  std::mutex mutex;
  std::condition_variable changed;  // notified on every state change
  std::mutex op;
  ContainerRecord record;
  uint64_t exits = 0;    // number of exits seen (for wait?condition=next-exit)
  bool removed = false;  // gone from the store (for wait?condition=removed)
  bool removal_running = false;  // a remove holds `op` right now (not persisted)
  bool starting = false;    // a start is between create and start of its task
  bool task_ready = false;  // the backend has a task (created or running) to attach to
  // From a task's create until release_task has removed it, its bundle and its volume mounts.
  // stop, kill and start wait on it: an exit is recorded before the task is released.
  bool task_held = false;
  bool stop_requested = false;  // stop/restart/rm asked for this exit: no restart policy
  bool stop_requested_for_removal = false;  // rm is removing it: no auto-remove on exit
  std::optional<ExitInfo> pending_exit;  // an exit that arrived while `starting`
  int64_t backoff_ms = 0;                // restart delay; 100 ms doubling to 1 min
  uint64_t restart_generation = 0;       // cancels scheduled restarts
  uint64_t health_generation = 0;        // drops results of probes from an earlier run
  std::map<std::string, std::shared_ptr<ExecRecord>> execs;
  // The list view's serialized entry of what cannot change after create (core/api/views),
  // opaque here: built on the first list, under `mutex`.
  std::shared_ptr<const void> list_view;
};

}  // namespace berth::core::container
