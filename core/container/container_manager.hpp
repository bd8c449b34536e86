// Containers: the object model behind /containers/* and /exec/*. Policy lives here (names,
// state machine, restart policies, what a start means); the isolation backend runs tasks, the
// storage driver holds root filesystems, the volume manager holds volumes.
//
// Locking: the map and names under `mutex_`; each container's record under its own `mutex`
// (held briefly); lifecycle operations serialized per container by its `op` mutex, which may be
// held while waiting for a task, never while listing. Task exits arrive on the backend's thread
// and are handled on our own worker, never under an `op`.
#pragma once

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "berth/sdk/isolation_backend.hpp"
#include "berth/sdk/storage_driver.hpp"
#include "core/common/io.hpp"
#include "core/common/list_filters.hpp"
#include "core/common/result.hpp"
#include "core/common/unique_fd.hpp"
#include "core/container/container.hpp"
#include "core/container/create_config.hpp"
#include "core/container/health_scheduler.hpp"
#include "core/container/network_hooks.hpp"
#include "core/config/userns_remap.hpp"
#include "core/events/event_bus.hpp"
#include "core/image/image_service.hpp"
#include "core/layer/id_shift.hpp"
#include "core/layer/tar_stream.hpp"
#include "core/volume/volume_manager.hpp"

namespace berth::core::container {

struct ManagerOptions {
  std::string data_root;
  std::string exec_root;
  int64_t log_max_size = 10 << 20;
  int log_max_file = 3;
  int ncpu = 1;
  bool cgroup_v2 = false;
  std::optional<config::UsernsRemap> userns_remap;  // daemon's --userns-remap, when set
  layer::TarLimits tar_limits;  // what an archive copied into a container may unpack to
};

// Outcome of an operation that may be a no-op (HTTP 304).
enum class Done { kChanged, kNotModified };

// The driver-call context of work berthd does on its own, for no client (exits, restart policy,
// healthchecks, restore, auto-remove): its request id names the job in the drivers' logs; it is
// never cancelled.
inline sdk::Context background_context(std::string_view job) {
  return sdk::Context("berthd-" + std::string(job));
}

// A container's cgroup metrics at one moment; none when it is not running (or they could not be
// read).
struct StatsSample {
  std::string id;
  std::string name;
  std::optional<sdk::CgroupStats> metrics;
  int64_t read_unix_nano = 0;
};

class ContainerManager final : public sdk::TaskExitSink {
 public:
  ContainerManager(ManagerOptions options, image::ImageService& images, sdk::StorageDriver& storage,
                   sdk::IsolationBackend* isolation, volume::VolumeManager& volumes,
                   events::EventBus& events);
  ~ContainerManager();

  // Loads containers, re-adopts running tasks (live restore), records exits that happened while
  // berthd was down, applies restart policies for a daemon start.
  Status restore();
  // Stops timers and workers; containers keep running under their monitors.
  void shutdown();
  // A task's process ended, reported by the isolation backend (any thread); registered with
  // PluginManager::set_task_exit_sink.
  void task_exited(const sdk::TaskExit& exit) noexcept override;

  // ---- lookups --------------------------------------------------------------------------------
  // Full id, name (with or without "/"), or unique id prefix; 404 "No such container: x".
  Result<std::shared_ptr<Container>> find(std::string_view name_or_id) const;
  std::vector<std::shared_ptr<Container>> all() const;
  image::ImageUsers image_users(const std::string& image_id) const;
  struct Counts {
    int64_t total = 0, running = 0, paused = 0, stopped = 0;
  };
  Counts counts() const;

  // ---- API ------------------------------------------------------------------------------------
  // Every call that reaches a driver takes the request's sdk::Context (its id for the drivers'
  // logs, cancelled once the client hung up); work of the daemon's own (exits, restart policy,
  // healthchecks, restore) runs under a background_context().
  struct Created {
    std::string id;
    std::vector<std::string> warnings;
  };
  Result<Created> create(sdk::Context& ctx, const std::string& name, const boost::json::value& body);
  Result<Done> start(sdk::Context& ctx, std::string_view name);
  // timeout: seconds to wait after the stop signal; nullopt: the container's or 10; -1: forever.
  Result<Done> stop(sdk::Context& ctx, std::string_view name, std::optional<int> timeout, std::string_view signal = "");
  Status restart(sdk::Context& ctx, std::string_view name, std::optional<int> timeout);
  Status kill(sdk::Context& ctx, std::string_view name, std::string_view signal);
  Status pause(sdk::Context& ctx, std::string_view name);
  Status unpause(sdk::Context& ctx, std::string_view name);
  Status remove(sdk::Context& ctx, std::string_view name, bool force, bool remove_volumes);
  Status rename(std::string_view name, const std::string& new_name);
  Result<boost::json::object> update(sdk::Context& ctx, std::string_view name, const boost::json::object& body);
  Status resize(sdk::Context& ctx, std::string_view name, uint32_t rows, uint32_t cols);

  // condition: "not-running" (default), "next-exit", "removed". `prepared` is called once the
  // waiter is registered (the handler sends its 200 headers then); `gone` is polled to stop
  // waiting for a client that left. Returns {exit code, error message}.
  Result<std::pair<int, std::string>> wait(std::string_view name, std::string_view condition,
                                           const std::function<void()>& prepared,
                                           const std::function<bool()>& gone);

  Result<std::pair<std::vector<std::string>, int64_t>> prune(sdk::Context& ctx, const Filters& filters);

  // Streams to attach: the backend's fd speaking Docker's attach protocol. Waits for the task
  // when the container is not running yet (attach comes before start in docker run), up to
  // `gone`. An empty fd means the container finished without running again.
  Result<UniqueFd> attach_stream(sdk::Context& ctx, std::string_view name, const sdk::AttachOptions& options,
                                 const std::function<bool()>& gone);
  void publish(const Container& c, const std::string& action,
               std::map<std::string, std::string> extra = {}) const;

  // ---- exec -----------------------------------------------------------------------------------
  Result<std::string> exec_create(std::string_view name, const boost::json::object& body);
  Result<std::shared_ptr<ExecRecord>> find_exec(std::string_view exec_id) const;
  // Starts a created exec; with `attach`, returns the stream before the process runs.
  Result<UniqueFd> exec_start(sdk::Context& ctx, const std::shared_ptr<ExecRecord>& exec, bool attach);
  // Waits (bounded) until the exec's exit code is recorded.
  void exec_wait_exit(const std::shared_ptr<ExecRecord>& exec, int timeout_ms);
  boost::json::object exec_inspect(const ExecRecord& exec) const;
  Status exec_resize(sdk::Context& ctx, std::string_view exec_id, uint32_t rows, uint32_t cols);

  // ---- filesystems ----------------------------------------------------------------------------
  // The container's root filesystem for cp: /proc/<pid>/root while running, else a mount of
  // its snapshot that lives as long as the returned handle.
  class RootfsAccess {
   public:
    RootfsAccess() = default;
    RootfsAccess(RootfsAccess&&) noexcept;
    RootfsAccess& operator=(RootfsAccess&&) noexcept;
    ~RootfsAccess();
    const std::string& path() const { return path_; }
    // How the container sees its files' owners (a remapped container's).
    const layer::IdShift& ids() const { return ids_; }

   private:
    friend class ContainerManager;
    std::string path_;
    layer::IdShift ids_;
    std::string mounted_;  // set when we mounted it ourselves
    // Volumes held mounted for the view (released after mounted_ is unmounted).
    volume::VolumeManager* volumes_ = nullptr;
    std::vector<std::string> volume_refs_;
  };
  // live: the container's files as it sees them: /proc/<pid>/root while it runs, else its
  // snapshot with its volumes and binds mounted over it (cp, archive). Not live: the snapshot
  // alone (export, commit).
  Result<RootfsAccess> open_rootfs(sdk::Context& ctx, std::string_view name, bool live);
  // Changes of the container's filesystem against its image (docker diff).
  Result<boost::json::array> changes(sdk::Context& ctx, std::string_view name);
  // docker commit: the container's changes become a layer of a new image.
  Result<std::string> commit(sdk::Context& ctx, std::string_view name, const std::string& repo, const std::string& tag,
                             const std::string& comment, const std::string& author,
                             const std::vector<std::string>& changes, bool pause,
                             const boost::json::object& config_override);
  // docker top: ps output filtered to the container's processes.
  Result<boost::json::object> top(sdk::Context& ctx, std::string_view name, const std::string& ps_args);
  // One stats sample: the backend's typed metrics (api/views/stats_view.hpp makes Docker's JSON).
  Result<StatsSample> stats_sample(sdk::Context& ctx, std::string_view name);
  // docker system df's containers.
  Result<int64_t> size_rw(sdk::Context& ctx, const Container& c) const;
  // For the views: the storage driver's name and the images containers were made from.
  const image::ImageService& images() const { return images_; }

  const ManagerOptions& options() const { return options_; }
  // Networking (core/network); without it every container gets an empty namespace of its own.
  // Set before restore(); the hooks outlive the manager.
  void set_network_hooks(NetworkHooks* hooks) { network_hooks_ = hooks; }
  NetworkHooks* network_hooks() const { return network_hooks_; }

 private:
  struct Task;
  std::string containers_dir() const { return options_.data_root + "/containers"; }
  std::string bundle_dir(const std::string& id) const { return options_.exec_root + "/containers/" + id; }
  Status persist(Container& c);  // caller holds c.mutex
  Result<std::string> unique_name(const std::string& requested, const std::string& id);
  Status size_limit_label(const boost::json::object& host_config, sdk::Labels& labels);
  Status prepare_volumes(sdk::Context& ctx, ContainerRecord& rec, const image::ResolvedImage& image,
                         std::vector<std::string>& created_volumes,
                         const config::UsernsRemap* remap);
  // owner: the remapped root that owns them (null: root).
  Status write_etc_files(ContainerRecord& rec, const config::UsernsRemap* owner = nullptr);
  // The daemon's --userns-remap when it applies to a container (not --userns=host), else null;
  // Docker's errors for what a remapped container cannot have.
  Result<const config::UsernsRemap*> userns_remap_for(const boost::json::object& host_config) const;
  // Host ids <-> the remapped container's (identity for null).
  static layer::IdShift id_shift(const config::UsernsRemap* remap);
  Status start_task(sdk::Context& ctx, const std::shared_ptr<Container>& c);  // caller holds c->op
  void handle_exit(const std::shared_ptr<Container>& c, ExitInfo info);
  // Records an exit and decides on a restart; caller holds c->mutex. Returns the restart delay
  // when the restart policy restarts it.
  std::optional<std::chrono::milliseconds> record_exit_locked(Container& c, const ExitInfo& info);
  void after_exit(const std::shared_ptr<Container>& c, const ExitInfo& info,
                  std::optional<std::chrono::milliseconds> restart);
  void schedule_restart(const std::shared_ptr<Container>& c, std::chrono::milliseconds delay,
                        uint64_t generation);
  void release_task(sdk::Context& ctx, const std::shared_ptr<Container>& c);
  // Kills (if it runs) and removes a task no container may keep (restore).
  void end_task(sdk::Context& ctx, const std::string& id, const sdk::TaskState& task);
  void auto_remove(const std::shared_ptr<Container>& c);
  Status cleanup(sdk::Context& ctx, const std::shared_ptr<Container>& c, bool remove_volumes);
  Status kill_task(sdk::Context& ctx, Container& c, int signal, bool all);
  bool wait_stopped(const std::shared_ptr<Container>& c, std::chrono::milliseconds timeout);
  void post(std::function<void()> job);
  void worker_loop();
  void timer_loop();

  // ---- healthchecks (health_probes.cpp) -------------------------------------------------------
  // Starts probing a running container that has a healthcheck. reset: a start, restart or
  // restore ("starting", streak 0); otherwise an unpause, which keeps the status.
  void health_start(const std::shared_ptr<Container>& c, bool reset);
  // Stops probing (exit, stop, pause); caller holds c.mutex. The status becomes "unhealthy".
  void health_stop_locked(Container& c);
  Result<HealthScheduler::Launch> launch_probe(const std::string& id, const std::string& exec_id,
                                               const std::vector<std::string>& argv);
  std::optional<int64_t> probe_finished(const std::string& id, uint64_t generation,
                                        const std::string& exec_id, ProbeResult result);

  ManagerOptions options_;
  image::ImageService& images_;
  sdk::StorageDriver& storage_;
  sdk::IsolationBackend* isolation_;
  volume::VolumeManager& volumes_;
  events::EventBus& events_;
  NetworkHooks* network_hooks_ = nullptr;

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Container>> containers_;  // by id
  std::map<std::string, std::string> names_;                      // "/name" → id
  std::map<std::string, std::shared_ptr<ExecRecord>> execs_;      // exec id → exec

  // Pending attaches: container id → waiters fulfilled when its task is created.
  struct PendingAttach {
    sdk::AttachOptions options;
    std::optional<Result<UniqueFd>> result;
  };
  std::map<std::string, std::vector<std::shared_ptr<PendingAttach>>> pending_attaches_;
  std::condition_variable attach_ready_;

  std::mutex jobs_mutex_;
  std::condition_variable jobs_cv_;
  std::deque<std::function<void()>> jobs_;
  struct Timer {
    std::chrono::steady_clock::time_point at;
    std::function<void()> fn;
  };
  std::vector<Timer> timers_;
  std::atomic<bool> stopping_{false};
  std::thread worker_;
  std::thread timer_thread_;
  std::unique_ptr<HealthScheduler> health_;
};

}  // namespace berth::core::container
