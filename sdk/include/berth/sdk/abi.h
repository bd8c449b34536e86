/* Berth plugin ABI: the only binary contract between berthd and a driver plugin.
 *
 * Plain C on purpose: C++ classes, std types, exceptions and RTTI do not survive dlopen across
 * compilers, flags or standard libraries, and a vtable cannot grow without breaking every plugin.
 * The C++ view (the berth/sdk headers) is compiled into both sides on top of this header.
 *
 * Rules every function here follows:
 *  - Every struct starts with `uint32_t struct_size` (sizeof at build time of whoever filled it).
 *    A reader never touches a field that lies beyond struct_size; a newer minor version only
 *    appends, so an older plugin's smaller table simply lacks the newest entries (treated as
 *    BERTH_ERR_UNSUPPORTED by the host).
 *  - Strings are borrowed views (berth_str, UTF-8, not NUL-terminated) valid only for the call.
 *  - Nothing allocated on one side is freed on the other: every output is written into a
 *    caller-provided sink that copies it before returning.
 *  - Variable-shaped payloads (mount lists, task specs, cgroup metrics, ...) are UTF-8 JSON; their
 *    shapes are documented next to each function and encoded by the SDK's codec (sdk/src), so
 *    both ends agree by construction. An empty input payload means the empty object {}.
 *    A document that belongs to someone else (the OCI runtime spec) is its own string argument,
 *    passed through as it came, never nested inside another JSON payload.
 *  - Functions return a berth_status; on failure they write a one-line, lowercase message without
 *    a trailing period into call->error ("mount overlay: invalid argument").
 *  - No exception ever crosses this boundary (the SDK thunks catch them).
 *
 * Threading: the host may call any driver function from any thread, but never concurrently for
 * the same snapshot key, network/endpoint or container id. Host callbacks are thread-safe. */
#ifndef BERTH_SDK_ABI_H
#define BERTH_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "berth/sdk/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Primitive types                                                                              */

typedef struct berth_str {
  const char* data;
  size_t size;
} berth_str;

typedef int32_t berth_status;
enum {
  BERTH_OK = 0,
  BERTH_ERR_INVALID_ARGUMENT = 1,
  BERTH_ERR_NOT_FOUND = 2,
  BERTH_ERR_ALREADY_EXISTS = 3,
  BERTH_ERR_FAILED_PRECONDITION = 4,
  BERTH_ERR_UNSUPPORTED = 5, /* not implemented, or "not applicable on this host" at create */
  BERTH_ERR_UNAVAILABLE = 6,
  BERTH_ERR_CANCELLED = 7,
  BERTH_ERR_DEADLINE_EXCEEDED = 8,
  BERTH_ERR_PERMISSION_DENIED = 9,
  BERTH_ERR_RESOURCE_EXHAUSTED = 10,
  BERTH_ERR_INTERNAL = 11
};

/* Output sink: the callee writes (possibly in several pieces); the owner copies the bytes. */
typedef struct berth_sink {
  void* ctx;
  void (*write)(void* ctx, const char* data, size_t size);
} berth_sink;

/* Pull stream: returns bytes read (> 0), 0 at the end, or -(berth_status) on failure. */
typedef struct berth_reader {
  void* ctx;
  int64_t (*read)(void* ctx, char* buffer, size_t capacity);
} berth_reader;

/* Push stream: takes all `size` bytes or fails. */
typedef struct berth_writer {
  void* ctx;
  berth_status (*write)(void* ctx, const char* data, size_t size);
} berth_writer;

/* ------------------------------------------------------------------------------------------ */
/* Per call                                                                                     */

typedef struct berth_call {
  uint32_t struct_size;
  berth_str request_id;     /* for logs; may be empty */
  int64_t deadline_unix_ms; /* 0 = no deadline */
  void* host_ctx;
  int32_t (*cancelled)(void* host_ctx); /* nonzero once the caller gave up; poll in long work */
  berth_sink error;                     /* failure message of this call */
} berth_call;

/* ------------------------------------------------------------------------------------------ */
/* Services the host gives each driver instance (valid until the driver is destroyed)          */

enum {
  BERTH_LOG_TRACE = 0,
  BERTH_LOG_DEBUG = 1,
  BERTH_LOG_INFO = 2,
  BERTH_LOG_WARN = 3,
  BERTH_LOG_ERROR = 4
};

typedef struct berth_host_api {
  uint32_t struct_size;
  void* ctx;
  int32_t (*log_enabled)(void* ctx, int32_t level);
  /* fields_json: a flat JSON object of structured fields ({"container":"3f2a"}), or empty. */
  void (*log)(void* ctx, int32_t level, berth_str message, berth_str fields_json);
  /* A task's process exited (an isolation backend's container, or one of its execs with exec_id
   * set), reported exactly once per process: {"id","exec_id","pid","exit_code","oom_killed",
   * "exited_at_unix_nano"} (sdk::TaskExit). */
  void (*task_exit)(void* ctx, berth_str task_exit_json);
  /* Registry credentials for a host ("127.0.0.1:5000"): writes {"username","password"} or
   * {"identity_token"} or {} to out_json. Only meaningful for registry transports. */
  berth_status (*credentials)(void* ctx, berth_str registry_host, berth_sink* out_json);
} berth_host_api;

typedef struct berth_driver_init {
  uint32_t struct_size;
  berth_str driver_id;    /* "<kind>.<name>", e.g. "storage.overlay" */
  berth_str config_json;  /* this driver's section of daemon.json "plugins"; "{}" when absent */
  berth_str root_dir;     /* persistent directory owned by the driver (<data-root>/plugins/<id>) */
  berth_str state_dir;    /* volatile directory owned by the driver (<exec-root>/plugins/<id>) */
  berth_str core_version; /* berthd's release, for diagnostics */
  const berth_host_api* host;
  berth_sink error; /* reason when create fails; with BERTH_ERR_UNSUPPORTED: why not here */
} berth_driver_init;

/* ------------------------------------------------------------------------------------------ */
/* Driver kinds                                                                                 */

enum {
  BERTH_KIND_STORAGE = 1,
  BERTH_KIND_NETWORK = 2,
  BERTH_KIND_REGISTRY = 3,
  BERTH_KIND_ISOLATION = 4
};

/* Every vtable function pointer may be NULL: the host then answers BERTH_ERR_UNSUPPORTED.
 * info() writes {"name":..., "capabilities":[...], "status":[["key","value"],...]}. */

/* Storage: containerd's snapshot model. `key` names an active or view snapshot, `name` a
 * committed one, `parent` a committed snapshot or empty. Drivers never mount: they return mount
 * specs as JSON [{"type","source","target","options":[...]}] and the caller mounts them.
 * Snapshot info JSON: {"name","parent","kind":"view|active|committed","labels":{},
 * "created_unix_nano","updated_unix_nano"}; usage JSON: {"size","inodes"}. */
typedef struct berth_storage_vtable {
  uint32_t struct_size;
  berth_status (*info)(void* self, const berth_call* call, berth_sink* out_json);
  berth_status (*prepare)(void* self, const berth_call* call, berth_str key, berth_str parent,
                          berth_str labels_json, berth_sink* out_mounts_json);
  berth_status (*view)(void* self, const berth_call* call, berth_str key, berth_str parent,
                       berth_str labels_json, berth_sink* out_mounts_json);
  berth_status (*mounts)(void* self, const berth_call* call, berth_str key,
                         berth_sink* out_mounts_json);
  berth_status (*commit)(void* self, const berth_call* call, berth_str name, berth_str key,
                         berth_str labels_json);
  berth_status (*remove)(void* self, const berth_call* call, berth_str key);
  berth_status (*stat)(void* self, const berth_call* call, berth_str key,
                       berth_sink* out_info_json);
  berth_status (*update_labels)(void* self, const berth_call* call, berth_str key,
                                berth_str labels_json, berth_sink* out_info_json);
  berth_status (*usage)(void* self, const berth_call* call, berth_str key,
                        berth_sink* out_usage_json);
  /* filter_json: {"parent":"...","kind":"committed"} (any field optional); out: JSON array. */
  berth_status (*walk)(void* self, const berth_call* call, berth_str filter_json,
                       berth_sink* out_infos_json);
  berth_status (*cleanup)(void* self, const berth_call* call);
} berth_storage_vtable;

/* Network: libnetwork's CNM. IPAM is the host's; deletes, leave and revoke are idempotent. */
typedef struct berth_network_vtable {
  uint32_t struct_size;
  berth_status (*info)(void* self, const berth_call* call, berth_sink* out_json);
  /* spec: {"id","name","options":{},"ipv4":[{"subnet","gateway"}],"internal","restore"} */
  berth_status (*create_network)(void* self, const berth_call* call, berth_str spec_json);
  berth_status (*delete_network)(void* self, const berth_call* call, berth_str network_id);
  /* spec: {"network_id","endpoint_id","address","mac_address","options":{}}
   * out:  {"mac_address","address"} (the final values) */
  berth_status (*create_endpoint)(void* self, const berth_call* call, berth_str spec_json,
                                  berth_sink* out_json);
  berth_status (*delete_endpoint)(void* self, const berth_call* call, berth_str network_id,
                                  berth_str endpoint_id);
  /* spec: {"network_id","endpoint_id","netns_path","container_id","ifname_hint"}
   * out:  {"interface","gateway","routes":[...]} */
  berth_status (*join)(void* self, const berth_call* call, berth_str spec_json,
                       berth_sink* out_json);
  berth_status (*leave)(void* self, const berth_call* call, berth_str network_id,
                        berth_str endpoint_id);
  /* ports: [{"protocol","host_ip","host_port","container_port"}] */
  berth_status (*program_external_connectivity)(void* self, const berth_call* call,
                                                berth_str network_id, berth_str endpoint_id,
                                                berth_str ports_json);
  berth_status (*revoke_external_connectivity)(void* self, const berth_call* call,
                                               berth_str network_id, berth_str endpoint_id);
} berth_network_vtable;

/* Registry transport: OCI distribution. repo_json: {"registry","repository","insecure"};
 * descriptor JSON: {"media_type","digest","size"}. The host verifies every digest and size. */
typedef struct berth_registry_vtable {
  uint32_t struct_size;
  berth_status (*info)(void* self, const berth_call* call, berth_sink* out_json);
  /* Checks credentials against the registry (docker login). out: {"status","identity_token"} */
  berth_status (*login)(void* self, const berth_call* call, berth_str registry_host,
                        berth_str credentials_json, berth_sink* out_json);
  /* HEAD a manifest by tag or digest; accept_json lists media types. out: descriptor */
  berth_status (*resolve)(void* self, const berth_call* call, berth_str repo_json,
                          berth_str reference, berth_str accept_json,
                          berth_sink* out_descriptor_json);
  /* GET a manifest: exact bytes to out_body, its descriptor to out_descriptor_json. */
  berth_status (*fetch_manifest)(void* self, const berth_call* call, berth_str repo_json,
                                 berth_str reference, berth_str accept_json,
                                 berth_sink* out_descriptor_json, berth_sink* out_body);
  berth_status (*fetch_blob)(void* self, const berth_call* call, berth_str repo_json,
                             berth_str descriptor_json, uint64_t offset, berth_writer* out);
  /* *out_exists = 1 when the registry has the blob. */
  berth_status (*blob_exists)(void* self, const berth_call* call, berth_str repo_json,
                              berth_str digest, int32_t* out_exists);
  /* mount_from: a repository on the same registry to cross-mount from, or empty. */
  berth_status (*push_blob)(void* self, const berth_call* call, berth_str repo_json,
                            berth_str descriptor_json, berth_str mount_from, berth_reader* source);
  /* out: the manifest digest the registry reports */
  berth_status (*push_manifest)(void* self, const berth_call* call, berth_str repo_json,
                                berth_str tag, berth_str media_type, berth_str body,
                                berth_sink* out_digest);
  berth_status (*list_tags)(void* self, const berth_call* call, berth_str repo_json,
                            berth_sink* out_tags_json);
  /* Since 2.1. docker search. query: {"registry","insecure","term","limit"}
   * out: [{"name","description","star_count","is_official","is_automated"}];
   * BERTH_ERR_UNSUPPORTED when the registry has no search API. */
  berth_status (*search)(void* self, const berth_call* call, berth_str query_json,
                         berth_sink* out_results_json);
} berth_registry_vtable;

/* Isolation: OCI runtime verbs over OCI runtime-spec JSON, in containerd's task terms.
 * Container exits arrive through host->task_exit(...), also for execs (with exec_id).
 * Task state JSON: {"id","status":"created|running|paused|stopped","pid","exit_code",
 * "oom_killed","started_at_unix_nano","exited_at_unix_nano"}. */
typedef struct berth_isolation_vtable {
  uint32_t struct_size;
  berth_status (*info)(void* self, const berth_call* call, berth_sink* out_json);
  /* Creates the task: namespaces, cgroups, rootfs and stdio ready, its process held before
   * exec until start(). oci_spec_json: the OCI runtime spec (config.json), as the host wrote it.
   * spec: {"bundle","rootfs_mounts":[mounts],"stdio":{"terminal","stdin","stdin_once"},
   * "log":{"path","max_size","max_files"},"init"}. out: {"pid"} */
  berth_status (*create)(void* self, const berth_call* call, berth_str id,
                         berth_str oci_spec_json, berth_str spec_json, berth_sink* out_json);
  /* Starts the container's process (exec_id empty) or a created exec: everything before this
   * (attach in particular) sees all of the process's output. */
  berth_status (*start)(void* self, const berth_call* call, berth_str id, berth_str exec_id);
  berth_status (*state)(void* self, const berth_call* call, berth_str id,
                        berth_sink* out_state_json);
  berth_status (*kill)(void* self, const berth_call* call, berth_str id, int32_t signal,
                       int32_t all);
  berth_status (*pause)(void* self, const berth_call* call, berth_str id);
  berth_status (*resume)(void* self, const berth_call* call, berth_str id);
  /* Creates an exec in the running container, held until start(id, exec_id).
   * spec: {"process":{OCI process},"stdio":{...}}. out: {"pid"} */
  berth_status (*exec)(void* self, const berth_call* call, berth_str id, berth_str exec_id,
                       berth_str spec_json, berth_sink* out_json);
  /* Opens the live stdio of the container (exec_id empty) or of an exec: *out_fd is a connected
   * stream socket the caller owns, speaking Docker's attach protocol: output framed with 8-byte
   * headers unless the process has a terminal, raw stdin inward, shutdown(SHUT_WR) = stdin EOF.
   * options: {"stdin","stdout","stderr"} */
  berth_status (*attach)(void* self, const berth_call* call, berth_str id, berth_str exec_id,
                         berth_str options_json, int32_t* out_fd);
  berth_status (*resize)(void* self, const berth_call* call, berth_str id, berth_str exec_id,
                         uint32_t rows, uint32_t cols);
  /* resources: OCI linux.resources */
  berth_status (*update)(void* self, const berth_call* call, berth_str id,
                         berth_str resources_json);
  /* The task's cgroup metrics, typed (sdk::CgroupStats); the host maps them to Docker's stats.
   * out: {"cpu":{"usage":{"total","user","kernel","per_cpu":[...]},"system","online_cpus",
   * "throttling":{"periods","throttled_periods","throttled_time"}},"memory":{"usage",
   * "max_usage","limit","failcnt","stat":[["key",N],...]},"pids":{"current","limit"},
   * "blkio":{"service_bytes":[{"major","minor","op","value"}],"serviced":[...]},
   * "networks":[{"name","rx_bytes","rx_packets","rx_errors","rx_dropped","tx_bytes",
   * "tx_packets","tx_errors","tx_dropped"}]}. A group the cgroup does not report is absent
   * (all of them for a task that is not running); times in nanoseconds, sizes in bytes. */
  berth_status (*stats)(void* self, const berth_call* call, berth_str id,
                        berth_sink* out_stats_json);
  berth_status (*pids)(void* self, const berth_call* call, berth_str id,
                       berth_sink* out_pids_json);
  /* OCI delete: releases everything the task holds; idempotent. out: final task state */
  berth_status (*remove)(void* self, const berth_call* call, berth_str id,
                         berth_sink* out_state_json);
  /* Every task this backend knows, running or not (re-adoption after a daemon restart). */
  berth_status (*list)(void* self, const berth_call* call, berth_sink* out_states_json);
} berth_isolation_vtable;

/* ------------------------------------------------------------------------------------------ */
/* Registration                                                                                 */

typedef struct berth_driver_def {
  uint32_t struct_size;
  uint32_t kind;      /* BERTH_KIND_* */
  berth_str name;     /* "overlay": the driver id is "<kind>.<name>" */
  const void* vtable; /* berth_<kind>_vtable*, starts with its own struct_size */
  /* Creates one instance. BERTH_ERR_UNSUPPORTED means "not applicable on this host": the host
   * reports the driver as skipped with the reason written to init->error. */
  berth_status (*create)(const berth_driver_init* init, void** out_self);
  void (*destroy)(void* self);
} berth_driver_def;

typedef struct berth_registrar {
  uint32_t struct_size;
  void* ctx;
  berth_status (*add_driver)(void* ctx, const berth_driver_def* def);
} berth_registrar;

/* What the entry alias returns. The strings are static for the life of the process. */
typedef struct berth_plugin_info {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* name;        /* "storage-overlay" */
  const char* version;     /* the plugin's own release */
  const char* vendor;
  const char* sdk_version; /* BERTH_SDK_VERSION it was built with */
  const char* toolchain;   /* compiler and standard library, for diagnostics */
  /* Registers the plugin's drivers; runs once, after the ABI handshake succeeded. */
  berth_status (*init)(const berth_registrar* registrar, berth_sink* error);
} berth_plugin_info;

/* The entry point every plugin exports under the alias BERTH_SDK_ENTRY_NAME
 * ("berth_plugin_abi_v<MAJOR>") in the "boostdll" section (BOOST_DLL_ALIAS). */
typedef const berth_plugin_info* (*berth_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_SDK_ABI_H */
