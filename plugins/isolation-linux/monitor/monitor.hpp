// The per-container monitor's long-lived process (conmon / containerd-shim in miniature): parent
// of the container's process and of its execs, it reaps them, records the container's exit in
// the task's "exit" file, holds their stdio pipes or pty masters, writes the json-file log,
// serves attach clients and the plugin's requests on m.sock, and outlives berthd.
//
// Every heavy step (spec parsing, namespaces, mounts, seccomp) runs in a forked child
// (monitor/container_setup.hpp); the long-lived process itself only runs one epoll loop over a
// few fds, and drops the pages of everything else once started (drop_file_backed_pages), so
// its resident memory stays the loop's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "berth/sdk/result.hpp"
#include "common/unique_fd.hpp"
#include "monitor/log_writer.hpp"

namespace berth::plugins::isolation {

// The monitor's configuration, "key value" lines the plugin hands over in a memfd.
struct MonitorConfig {
  std::string task_dir;
  bool terminal = false;
  bool stdin_open = false;
  bool stdin_once = false;
  std::string log_path;
  int64_t log_max_size = 0;
  int log_max_files = 1;
  bool pid_namespace = true;
  std::string procs_file;  // a cgroup.procs of the task (leftovers are killed at exit)
  std::string kill_file;   // v2 cgroup.kill, when there is one
  std::string oom_file;    // memory.oom_control (v1) or memory.events (v2): "oom_kill N"
  int create_config_fd = -1;  // memfds from the plugin, kept for the setup of every exec
  int seccomp_fd = -1;
};

sdk::Result<MonitorConfig> load_monitor_config(const std::string& task_dir, int fd);

class Monitor {
 public:
  explicit Monitor(MonitorConfig config);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Creates the container's process (held before execve) and the control socket.
  sdk::Result<int> create();
  // Serves until the container exited, its output was delivered and its exit recorded.
  int run();

 private:
  struct Client;
  struct Proc {
    std::string id;  // exec id, "-" for the container's own process
    pid_t pid = 0;
    bool terminal = false;
    bool stdin_once = false;
    UniqueFd out, err, in, in_watch;  // with a terminal, out is the pty master, in a dup of it
    UniqueFd start, exec_err;
    bool started = false, reaped = false, finalized = false;
    bool out_open = false, err_open = false;
    bool in_close_pending = false;
    bool output_paused = false;
    std::string in_buf;
    int exit_code = 0;
    bool oom_killed = false;
    int64_t started_at = 0, exited_at = 0, deadline = 0;
    std::vector<Client*> clients;
  };
  struct Client {
    UniqueFd fd;
    Proc* proc = nullptr;
    bool want_in = false, want_out = false, want_err = false;
    bool in_eof = false, closing = false, in_paused = false;
    bool dead = false;  // dropped: unwatched now, freed by sweep() at the end of the iteration
    uint32_t events = 0;
    std::string out_buf;
  };
  struct Conn {
    UniqueFd fd;
    std::string buf;
  };
  struct Subscriber {
    UniqueFd fd;
    std::string out_buf;
    uint32_t events = 0;
    bool dead = false;
  };
  enum class Kind { kListen, kSignal, kConn, kOut, kErr, kIn, kClient, kSubscriber };
  struct Entry {
    Kind kind;
    void* ptr;
  };

  // Creates the fds and the setup child of one process; fills `proc` with the monitor's ends.
  sdk::Result<pid_t> spawn(Proc& proc, bool stdin_open, const std::string& exec_id);

  void watch(int fd, Kind kind, void* ptr, uint32_t events);
  void rewatch(int fd, uint32_t events);
  void unwatch(int fd);

  void on_accept();
  void on_conn(Conn* conn);
  void handle(Conn* conn, const std::string& line);
  void reply(int fd, const std::string& line);
  void on_output(Proc* proc, int stream);
  void on_client(Client* client, uint32_t events);
  void on_stdin_writable(Proc* proc);
  void on_subscriber(Subscriber* sub, uint32_t events);
  void reap();

  sdk::Status start_process(Proc& proc);
  sdk::Result<int> create_exec(const std::string& id, bool terminal, bool stdin_open,
                               bool stdin_once);
  void dispatch(Proc& proc, int stream, const char* data, size_t size, int64_t now);
  void flush_client(Client* client);
  void drop_client(Client* client);
  void flush_stdin(Proc& proc);
  void close_stdin(Proc& proc);
  void update_backpressure(Proc& proc);
  void close_output(Proc& proc, int stream);
  void try_finalize(Proc& proc, int64_t now);
  void publish(const std::string& line);
  void flush_subscriber(Subscriber* sub);
  void drop_subscriber(Subscriber* sub);
  void sweep();
  void write_exit_file();
  Proc* find(const std::string& id);
  Proc* find_pid(pid_t pid);
  std::string status_word() const;
  int next_timeout_ms(int64_t now) const;
  void diag(const std::string& message);

  MonitorConfig config_;
  LogWriter log_;
  UniqueFd epoll_, signal_fd_, listen_;
  std::string socket_path_;
  std::unique_ptr<Proc> main_;
  std::vector<std::unique_ptr<Proc>> execs_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
  std::unordered_map<int, Entry> entries_;
  int64_t finished_at_ = 0;  // when the container's exit was recorded
};

}  // namespace berth::plugins::isolation
