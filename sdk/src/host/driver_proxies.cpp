// Host side of the ABI: each driver kind's C++ interface implemented over the plugin's C table.
// An entry beyond the table's struct_size (an older plugin) or a NULL entry answers kUnsupported.
// Over 600 lines on purpose: one proxy per driver kind, each a plain mapping of its C table,
// kept side by side so the four stay alike (same Call, sink and decode steps).
#include <cstddef>
#include <string>

#include "berth/sdk/codec.hpp"
#include "berth/sdk/host/plugin_library.hpp"

namespace berth::sdk::host {
namespace {

berth_str borrow(std::string_view s) { return berth_str{s.data(), s.size()}; }

void append_to_string(void* ctx, const char* data, size_t size) {
  static_cast<std::string*>(ctx)->append(data, size);
}

berth_sink sink_into(std::string& s) { return berth_sink{&s, &append_to_string}; }

// The services behind one driver's berth_host_api.
struct HostBridge {
  Logger* log = nullptr;
  TaskExitSink* task_exits = nullptr;
  CredentialProvider* credentials = nullptr;
  berth_host_api api{};

  HostBridge(Logger* l, TaskExitSink* e, CredentialProvider* c)
      : log(l), task_exits(e), credentials(c) {
    api.struct_size = sizeof(berth_host_api);
    api.ctx = this;
    api.log_enabled = [](void* ctx, int32_t level) -> int32_t {
      auto* self = static_cast<HostBridge*>(ctx);
      return self->log != nullptr && self->log->enabled(static_cast<LogLevel>(level)) ? 1 : 0;
    };
    api.log = [](void* ctx, int32_t level, berth_str message, berth_str fields_json) {
      auto* self = static_cast<HostBridge*>(ctx);
      if (self->log == nullptr) return;
      std::string_view msg(message.data == nullptr ? "" : message.data, message.size);
      if (fields_json.size == 0) {
        self->log->log(static_cast<LogLevel>(level), msg);
        return;
      }
      // Fields come as a flat JSON object of strings.
      std::string_view fields(fields_json.data, fields_json.size);
      auto parsed = codec::from_json<Labels>(fields);
      if (!parsed || parsed->empty()) {
        self->log->log(static_cast<LogLevel>(level), msg);
        return;
      }
      std::vector<Field> list;
      list.reserve(parsed->size());
      for (const auto& [k, v] : *parsed) list.push_back(Field{k, v});
      self->log->write(static_cast<LogLevel>(level), msg, list.data(), list.size());
    };
    api.task_exit = [](void* ctx, berth_str payload) {
      auto* self = static_cast<HostBridge*>(ctx);
      if (self->task_exits == nullptr) return;
      auto exit = codec::from_json<TaskExit>(
          std::string_view(payload.data == nullptr ? "" : payload.data, payload.size));
      if (!exit) {
        // A backend bug, not the container's: say so where the operator looks.
        if (self->log != nullptr) {
          self->log->error("ignored a malformed task exit from the driver: " + exit.error().message);
        }
        return;
      }
      self->task_exits->task_exited(*exit);
    };
    api.credentials = [](void* ctx, berth_str host, berth_sink* out) -> berth_status {
      auto* self = static_cast<HostBridge*>(ctx);
      if (self->credentials == nullptr) return BERTH_OK;
      auto creds = self->credentials->lookup(std::string_view(host.data, host.size));
      if (!creds) return static_cast<berth_status>(creds.error().code);
      std::string json = codec::to_json(*creds);
      if (out != nullptr && out->write != nullptr) out->write(out->ctx, json.data(), json.size());
      return BERTH_OK;
    };
  }
};

// One driver call: the berth_call handed to the plugin and the error text it writes.
class Call {
 public:
  explicit Call(Context& ctx) {
    call_.struct_size = sizeof(berth_call);
    call_.request_id = borrow(ctx.request_id());
    auto deadline = ctx.deadline();
    call_.deadline_unix_ms =
        deadline.time_since_epoch().count() == 0
            ? 0
            : std::chrono::duration_cast<std::chrono::milliseconds>(deadline.time_since_epoch())
                  .count();
    call_.host_ctx = &ctx;
    call_.cancelled = [](void* c) -> int32_t {
      return static_cast<Context*>(c)->cancelled() ? 1 : 0;
    };
    call_.error = sink_into(error_);
  }
  const berth_call* get() const { return &call_; }

  Status check(berth_status status, std::string_view op) const {
    if (status == BERTH_OK) return {};
    std::string message = error_.empty() ? std::string(op) + " failed" : error_;
    return make_error(error_code_from_status(status), std::move(message));
  }

 private:
  berth_call call_{};
  std::string error_;
};

Error unsupported(std::string_view op) {
  return make_error(ErrorCode::kUnsupported, std::string(op) + " is not supported by this driver");
}

// True when the table (of size struct_size) has a non-null entry `member`.
template <class Table, class Fn>
bool has(const Table* table, Fn Table::*member) {
  auto offset = reinterpret_cast<const char*>(&(table->*member)) -
                reinterpret_cast<const char*>(table);
  return static_cast<size_t>(offset) + sizeof(Fn) <= table->struct_size &&
         table->*member != nullptr;
}

template <class T>
Result<T> decoded(Status status, const std::string& json) {
  if (!status) return std::move(status).error();
  return codec::from_json<T>(json);
}

// Common part of every proxy: owns the plugin-side instance and its host bridge.
template <class Table>
class ProxyBase {
 public:
  ProxyBase(const Table* table, void* self, void (*destroy)(void*),
            std::unique_ptr<HostBridge> bridge)
      : table_(table), self_(self), destroy_(destroy), bridge_(std::move(bridge)) {}
  ~ProxyBase() {
    if (destroy_ != nullptr) destroy_(self_);
  }
  ProxyBase(const ProxyBase&) = delete;
  ProxyBase& operator=(const ProxyBase&) = delete;

 protected:
  DriverInfo info_of(const char* op) {
    if (!has(table_, &Table::info)) return DriverInfo{};
    Context ctx;
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    auto r = decoded<DriverInfo>(call.check(table_->info(self_, call.get(), &sink), op), out);
    return r ? *r : DriverInfo{};
  }

  const Table* table_;
  void* self_;
  void (*destroy_)(void*);
  std::unique_ptr<HostBridge> bridge_;  // after destroy_ ran: the driver may log until then
};

// ---- storage --------------------------------------------------------------------------------

class StorageProxy final : public StorageDriver, ProxyBase<berth_storage_vtable> {
 public:
  using ProxyBase::ProxyBase;

  DriverInfo info() override { return info_of("info"); }

  Result<std::vector<Mount>> prepare(Context& ctx, std::string_view key, std::string_view parent,
                                     const Labels& labels) override {
    return create_like(&berth_storage_vtable::prepare, "prepare", ctx, key, parent, labels);
  }
  Result<std::vector<Mount>> view(Context& ctx, std::string_view key, std::string_view parent,
                                  const Labels& labels) override {
    return create_like(&berth_storage_vtable::view, "view", ctx, key, parent, labels);
  }
  Result<std::vector<Mount>> mounts(Context& ctx, std::string_view key) override {
    if (!has(table_, &berth_storage_vtable::mounts)) return unsupported("mounts");
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<std::vector<Mount>>(
        call.check(table_->mounts(self_, call.get(), borrow(key), &sink), "mounts"), out);
  }
  Status commit(Context& ctx, std::string_view name, std::string_view key,
                const Labels& labels) override {
    if (!has(table_, &berth_storage_vtable::commit)) return unsupported("commit");
    Call call(ctx);
    std::string labels_json = codec::to_json(labels);
    return call.check(
        table_->commit(self_, call.get(), borrow(name), borrow(key), borrow(labels_json)),
        "commit");
  }
  Status remove(Context& ctx, std::string_view key) override {
    if (!has(table_, &berth_storage_vtable::remove)) return unsupported("remove");
    Call call(ctx);
    return call.check(table_->remove(self_, call.get(), borrow(key)), "remove");
  }
  Result<SnapshotInfo> stat(Context& ctx, std::string_view key) override {
    if (!has(table_, &berth_storage_vtable::stat)) return unsupported("stat");
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<SnapshotInfo>(
        call.check(table_->stat(self_, call.get(), borrow(key), &sink), "stat"), out);
  }
  Result<SnapshotInfo> update_labels(Context& ctx, std::string_view key,
                                     const Labels& labels) override {
    if (!has(table_, &berth_storage_vtable::update_labels)) return unsupported("update labels");
    Call call(ctx);
    std::string labels_json = codec::to_json(labels);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<SnapshotInfo>(
        call.check(table_->update_labels(self_, call.get(), borrow(key), borrow(labels_json),
                                         &sink),
                   "update labels"),
        out);
  }
  Result<Usage> usage(Context& ctx, std::string_view key) override {
    if (!has(table_, &berth_storage_vtable::usage)) return unsupported("usage");
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<Usage>(
        call.check(table_->usage(self_, call.get(), borrow(key), &sink), "usage"), out);
  }
  Result<std::vector<SnapshotInfo>> walk(Context& ctx, const WalkFilter& filter) override {
    if (!has(table_, &berth_storage_vtable::walk)) return unsupported("walk");
    Call call(ctx);
    std::string filter_json = codec::to_json(filter);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<std::vector<SnapshotInfo>>(
        call.check(table_->walk(self_, call.get(), borrow(filter_json), &sink), "walk"), out);
  }
  Status cleanup(Context& ctx) override {
    if (!has(table_, &berth_storage_vtable::cleanup)) return {};
    Call call(ctx);
    return call.check(table_->cleanup(self_, call.get()), "cleanup");
  }

 private:
  using CreateFn = berth_status (*)(void*, const berth_call*, berth_str, berth_str, berth_str,
                                    berth_sink*);
  Result<std::vector<Mount>> create_like(CreateFn berth_storage_vtable::*member, const char* op,
                                         Context& ctx, std::string_view key,
                                         std::string_view parent, const Labels& labels) {
    if (!has(table_, member)) return unsupported(op);
    Call call(ctx);
    std::string labels_json = codec::to_json(labels);
    std::string out;
    berth_sink sink = sink_into(out);
    berth_status s = (table_->*member)(self_, call.get(), borrow(key), borrow(parent),
                                       borrow(labels_json), &sink);
    return decoded<std::vector<Mount>>(call.check(s, op), out);
  }
};

// ---- network --------------------------------------------------------------------------------

class NetworkProxy final : public NetworkDriver, ProxyBase<berth_network_vtable> {
 public:
  using ProxyBase::ProxyBase;
  using T = berth_network_vtable;

  DriverInfo info() override { return info_of("info"); }

  Status create_network(Context& ctx, const NetworkSpec& spec) override {
    if (!has(table_, &T::create_network)) return unsupported("create network");
    Call call(ctx);
    std::string spec_json = codec::to_json(spec);
    return call.check(table_->create_network(self_, call.get(), borrow(spec_json)),
                      "create network");
  }
  Status delete_network(Context& ctx, std::string_view nid) override {
    if (!has(table_, &T::delete_network)) return unsupported("delete network");
    Call call(ctx);
    return call.check(table_->delete_network(self_, call.get(), borrow(nid)), "delete network");
  }
  Result<EndpointResult> create_endpoint(Context& ctx, const EndpointSpec& spec) override {
    if (!has(table_, &T::create_endpoint)) return unsupported("create endpoint");
    Call call(ctx);
    std::string spec_json = codec::to_json(spec);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<EndpointResult>(
        call.check(table_->create_endpoint(self_, call.get(), borrow(spec_json), &sink),
                   "create endpoint"),
        out);
  }
  Status delete_endpoint(Context& ctx, std::string_view nid, std::string_view eid) override {
    if (!has(table_, &T::delete_endpoint)) return unsupported("delete endpoint");
    Call call(ctx);
    return call.check(table_->delete_endpoint(self_, call.get(), borrow(nid), borrow(eid)),
                      "delete endpoint");
  }
  Result<JoinResult> join(Context& ctx, const JoinSpec& spec) override {
    if (!has(table_, &T::join)) return unsupported("join");
    Call call(ctx);
    std::string spec_json = codec::to_json(spec);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<JoinResult>(
        call.check(table_->join(self_, call.get(), borrow(spec_json), &sink), "join"), out);
  }
  Status leave(Context& ctx, std::string_view nid, std::string_view eid) override {
    if (!has(table_, &T::leave)) return unsupported("leave");
    Call call(ctx);
    return call.check(table_->leave(self_, call.get(), borrow(nid), borrow(eid)), "leave");
  }
  Status program_external_connectivity(Context& ctx, std::string_view nid, std::string_view eid,
                                       const std::vector<PortMapping>& ports) override {
    if (!has(table_, &T::program_external_connectivity)) return unsupported("port publishing");
    Call call(ctx);
    std::string ports_json = codec::to_json(ports);
    return call.check(table_->program_external_connectivity(self_, call.get(), borrow(nid),
                                                            borrow(eid), borrow(ports_json)),
                      "program external connectivity");
  }
  Status revoke_external_connectivity(Context& ctx, std::string_view nid,
                                      std::string_view eid) override {
    if (!has(table_, &T::revoke_external_connectivity)) return {};
    Call call(ctx);
    return call.check(
        table_->revoke_external_connectivity(self_, call.get(), borrow(nid), borrow(eid)),
        "revoke external connectivity");
  }
};

// ---- registry -------------------------------------------------------------------------------

class RegistryProxy final : public RegistryTransport, ProxyBase<berth_registry_vtable> {
 public:
  using ProxyBase::ProxyBase;
  using T = berth_registry_vtable;

  DriverInfo info() override { return info_of("info"); }

  Result<LoginResult> login(Context& ctx, std::string_view host,
                            const Credentials& credentials) override {
    if (!has(table_, &T::login)) return unsupported("login");
    Call call(ctx);
    std::string creds = codec::to_json(credentials);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<LoginResult>(
        call.check(table_->login(self_, call.get(), borrow(host), borrow(creds), &sink), "login"),
        out);
  }
  Result<Descriptor> resolve(Context& ctx, const RepoRef& repo, std::string_view reference,
                             const std::vector<std::string>& accept) override {
    if (!has(table_, &T::resolve)) return unsupported("resolve");
    Call call(ctx);
    std::string repo_json = codec::to_json(repo);
    std::string accept_json = codec::to_json(accept);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<Descriptor>(
        call.check(table_->resolve(self_, call.get(), borrow(repo_json), borrow(reference),
                                   borrow(accept_json), &sink),
                   "resolve"),
        out);
  }
  Result<FetchedManifest> fetch_manifest(Context& ctx, const RepoRef& repo,
                                         std::string_view reference,
                                         const std::vector<std::string>& accept) override {
    if (!has(table_, &T::fetch_manifest)) return unsupported("fetch manifest");
    Call call(ctx);
    std::string repo_json = codec::to_json(repo);
    std::string accept_json = codec::to_json(accept);
    std::string desc;
    std::string body;
    berth_sink desc_sink = sink_into(desc);
    berth_sink body_sink = sink_into(body);
    Status s = call.check(table_->fetch_manifest(self_, call.get(), borrow(repo_json),
                                                 borrow(reference), borrow(accept_json),
                                                 &desc_sink, &body_sink),
                          "fetch manifest");
    auto d = decoded<Descriptor>(std::move(s), desc);
    if (!d) return d.error();
    return FetchedManifest{std::move(*d), std::move(body)};
  }
  Status fetch_blob(Context& ctx, const RepoRef& repo, const Descriptor& blob, uint64_t offset,
                    ByteSink& out) override {
    if (!has(table_, &T::fetch_blob)) return unsupported("fetch blob");
    Call call(ctx);
    std::string repo_json = codec::to_json(repo);
    std::string desc_json = codec::to_json(blob);
    berth_writer writer{&out, [](void* c, const char* data, size_t size) -> berth_status {
                          Status s = static_cast<ByteSink*>(c)->write(std::string_view(data, size));
                          return s ? BERTH_OK : static_cast<berth_status>(s.error().code);
                        }};
    return call.check(table_->fetch_blob(self_, call.get(), borrow(repo_json), borrow(desc_json),
                                         offset, &writer),
                      "fetch blob");
  }
  Result<bool> blob_exists(Context& ctx, const RepoRef& repo, std::string_view digest) override {
    if (!has(table_, &T::blob_exists)) return unsupported("blob exists");
    Call call(ctx);
    std::string repo_json = codec::to_json(repo);
    int32_t exists = 0;
    Status s = call.check(
        table_->blob_exists(self_, call.get(), borrow(repo_json), borrow(digest), &exists),
        "blob exists");
    if (!s) return std::move(s).error();
    return exists != 0;
  }
  Status push_blob(Context& ctx, const RepoRef& repo, const Descriptor& blob,
                   std::string_view mount_from, ByteSource& source) override {
    if (!has(table_, &T::push_blob)) return unsupported("push blob");
    Call call(ctx);
    std::string repo_json = codec::to_json(repo);
    std::string desc_json = codec::to_json(blob);
    berth_reader reader{&source, [](void* c, char* buffer, size_t capacity) -> int64_t {
                          auto r = static_cast<ByteSource*>(c)->read(buffer, capacity);
                          if (!r) return -static_cast<int64_t>(r.error().code);
                          return static_cast<int64_t>(*r);
                        }};
    return call.check(table_->push_blob(self_, call.get(), borrow(repo_json), borrow(desc_json),
                                        borrow(mount_from), &reader),
                      "push blob");
  }
  Result<std::string> push_manifest(Context& ctx, const RepoRef& repo, std::string_view tag,
                                    std::string_view media_type, std::string_view body) override {
    if (!has(table_, &T::push_manifest)) return unsupported("push manifest");
    Call call(ctx);
    std::string repo_json = codec::to_json(repo);
    std::string digest;
    berth_sink sink = sink_into(digest);
    Status s = call.check(table_->push_manifest(self_, call.get(), borrow(repo_json), borrow(tag),
                                                borrow(media_type), borrow(body), &sink),
                          "push manifest");
    if (!s) return std::move(s).error();
    return digest;
  }
  Result<std::vector<std::string>> list_tags(Context& ctx, const RepoRef& repo) override {
    if (!has(table_, &T::list_tags)) return unsupported("list tags");
    Call call(ctx);
    std::string repo_json = codec::to_json(repo);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<std::vector<std::string>>(
        call.check(table_->list_tags(self_, call.get(), borrow(repo_json), &sink), "list tags"),
        out);
  }
  Result<std::vector<SearchResult>> search(Context& ctx, const SearchQuery& query) override {
    // A plugin built against ABI 2.0 has no entry: its registries cannot be searched.
    if (!has(table_, &T::search)) return unsupported("search");
    Call call(ctx);
    std::string query_json = codec::to_json(query);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<std::vector<SearchResult>>(
        call.check(table_->search(self_, call.get(), borrow(query_json), &sink), "search"), out);
  }
};

// ---- isolation ------------------------------------------------------------------------------

class IsolationProxy final : public IsolationBackend, ProxyBase<berth_isolation_vtable> {
 public:
  using ProxyBase::ProxyBase;
  using T = berth_isolation_vtable;

  DriverInfo info() override { return info_of("info"); }

  Result<int> create(Context& ctx, std::string_view id, const CreateSpec& spec) override {
    if (!has(table_, &T::create)) return unsupported("create");
    Call call(ctx);
    std::string spec_json = codec::to_json(spec);  // the OCI spec is not in it: its own argument
    std::string out;
    berth_sink sink = sink_into(out);
    auto pid = decoded<codec::Pid>(
        call.check(table_->create(self_, call.get(), borrow(id), borrow(spec.oci_json),
                                  borrow(spec_json), &sink),
                   "create"),
        out);
    if (!pid) return pid.error();
    return pid->pid;
  }
  Status start(Context& ctx, std::string_view id, std::string_view exec_id) override {
    if (!has(table_, &T::start)) return unsupported("start");
    Call call(ctx);
    return call.check(table_->start(self_, call.get(), borrow(id), borrow(exec_id)), "start");
  }
  Result<TaskState> state(Context& ctx, std::string_view id) override {
    return state_like(&T::state, "state", ctx, id);
  }
  Status kill(Context& ctx, std::string_view id, int signal, bool all) override {
    if (!has(table_, &T::kill)) return unsupported("kill");
    Call call(ctx);
    return call.check(table_->kill(self_, call.get(), borrow(id), signal, all ? 1 : 0), "kill");
  }
  Status pause(Context& ctx, std::string_view id) override {
    return simple(&T::pause, "pause", ctx, id);
  }
  Status resume(Context& ctx, std::string_view id) override {
    return simple(&T::resume, "resume", ctx, id);
  }
  Result<int> exec(Context& ctx, std::string_view id, std::string_view exec_id,
                   const ExecSpec& spec) override {
    if (!has(table_, &T::exec)) return unsupported("exec");
    Call call(ctx);
    std::string spec_json = codec::to_json(spec);
    std::string out;
    berth_sink sink = sink_into(out);
    auto pid = decoded<codec::Pid>(
        call.check(table_->exec(self_, call.get(), borrow(id), borrow(exec_id), borrow(spec_json),
                                &sink),
                   "exec"),
        out);
    if (!pid) return pid.error();
    return pid->pid;
  }
  Result<int> attach(Context& ctx, std::string_view id, std::string_view exec_id,
                     const AttachOptions& options) override {
    if (!has(table_, &T::attach)) return unsupported("attach");
    Call call(ctx);
    std::string options_json = codec::to_json(options);
    int32_t fd = -1;
    Status s = call.check(table_->attach(self_, call.get(), borrow(id), borrow(exec_id),
                                         borrow(options_json), &fd),
                          "attach");
    if (!s) return std::move(s).error();
    return static_cast<int>(fd);
  }
  Status resize(Context& ctx, std::string_view id, std::string_view exec_id, uint32_t rows,
                uint32_t cols) override {
    if (!has(table_, &T::resize)) return unsupported("resize");
    Call call(ctx);
    return call.check(table_->resize(self_, call.get(), borrow(id), borrow(exec_id), rows, cols),
                      "resize");
  }
  Status update(Context& ctx, std::string_view id, std::string_view resources_json) override {
    if (!has(table_, &T::update)) return unsupported("update");
    Call call(ctx);
    return call.check(table_->update(self_, call.get(), borrow(id), borrow(resources_json)),
                      "update");
  }
  Result<CgroupStats> stats(Context& ctx, std::string_view id) override {
    if (!has(table_, &T::stats)) return unsupported("stats");
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<CgroupStats>(
        call.check(table_->stats(self_, call.get(), borrow(id), &sink), "stats"), out);
  }
  Result<std::vector<int>> pids(Context& ctx, std::string_view id) override {
    if (!has(table_, &T::pids)) return unsupported("pids");
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<std::vector<int>>(
        call.check(table_->pids(self_, call.get(), borrow(id), &sink), "pids"), out);
  }
  Result<TaskState> remove(Context& ctx, std::string_view id) override {
    return state_like(&T::remove, "remove", ctx, id);
  }
  Result<std::vector<TaskState>> list(Context& ctx) override {
    if (!has(table_, &T::list)) return unsupported("list");
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<std::vector<TaskState>>(
        call.check(table_->list(self_, call.get(), &sink), "list"), out);
  }

 private:
  using IdFn = berth_status (*)(void*, const berth_call*, berth_str);
  using StateFn = berth_status (*)(void*, const berth_call*, berth_str, berth_sink*);

  Status simple(IdFn T::*member, const char* op, Context& ctx, std::string_view id) {
    if (!has(table_, member)) return unsupported(op);
    Call call(ctx);
    return call.check((table_->*member)(self_, call.get(), borrow(id)), op);
  }
  Result<TaskState> state_like(StateFn T::*member, const char* op, Context& ctx,
                               std::string_view id) {
    if (!has(table_, member)) return unsupported(op);
    Call call(ctx);
    std::string out;
    berth_sink sink = sink_into(out);
    return decoded<TaskState>(
        call.check((table_->*member)(self_, call.get(), borrow(id), &sink), op), out);
  }
};

// ---- creation -------------------------------------------------------------------------------

template <class Proxy, class Table, class Iface>
Result<std::unique_ptr<Iface>> create_driver(const DriverDef& def, const HostInit& init,
                                             uint32_t expected_kind) {
  if (def.kind != expected_kind) {
    return make_error(ErrorCode::kInvalidArgument,
                      def.id() + " is a " + std::string(kind_name(def.kind)) + " driver, not a " +
                          std::string(kind_name(expected_kind)) + " driver");
  }
  const auto* table = static_cast<const Table*>(def.vtable);
  if (table == nullptr || table->struct_size < sizeof(uint32_t) * 2) {
    return make_error(ErrorCode::kInvalidArgument, def.id() + ": driver table is missing");
  }
  if (def.create == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, def.id() + ": driver has no create function");
  }
  auto bridge = std::make_unique<HostBridge>(init.log, init.task_exits, init.credentials);
  std::string error;
  berth_driver_init c{};
  c.struct_size = sizeof(berth_driver_init);
  c.driver_id = borrow(init.driver_id);
  c.config_json = borrow(init.config_json);
  c.root_dir = borrow(init.root_dir);
  c.state_dir = borrow(init.state_dir);
  c.core_version = borrow(init.core_version);
  c.host = &bridge->api;
  c.error = sink_into(error);
  void* self = nullptr;
  berth_status s = def.create(&c, &self);
  if (s != BERTH_OK) {
    if (error.empty()) error = "driver create failed";
    return make_error(error_code_from_status(s), std::move(error));
  }
  if (self == nullptr) {
    return make_error(ErrorCode::kInternal, def.id() + ": create returned no driver");
  }
  return std::unique_ptr<Iface>(std::make_unique<Proxy>(table, self, def.destroy, std::move(bridge)));
}

}  // namespace

std::string_view kind_name(uint32_t kind) {
  switch (kind) {
    case BERTH_KIND_STORAGE: return "storage";
    case BERTH_KIND_NETWORK: return "network";
    case BERTH_KIND_REGISTRY: return "registry";
    case BERTH_KIND_ISOLATION: return "isolation";
    default: return "unknown";
  }
}

Result<std::unique_ptr<StorageDriver>> create_storage(const DriverDef& def, const HostInit& init) {
  return create_driver<StorageProxy, berth_storage_vtable, StorageDriver>(def, init,
                                                                          BERTH_KIND_STORAGE);
}
Result<std::unique_ptr<NetworkDriver>> create_network(const DriverDef& def, const HostInit& init) {
  return create_driver<NetworkProxy, berth_network_vtable, NetworkDriver>(def, init,
                                                                          BERTH_KIND_NETWORK);
}
Result<std::unique_ptr<RegistryTransport>> create_registry(const DriverDef& def,
                                                           const HostInit& init) {
  return create_driver<RegistryProxy, berth_registry_vtable, RegistryTransport>(
      def, init, BERTH_KIND_REGISTRY);
}
Result<std::unique_ptr<IsolationBackend>> create_isolation(const DriverDef& def,
                                                           const HostInit& init) {
  return create_driver<IsolationProxy, berth_isolation_vtable, IsolationBackend>(
      def, init, BERTH_KIND_ISOLATION);
}

}  // namespace berth::sdk::host
