// Plugin side of the ABI: the C vtables of each driver kind, implemented once over the C++
// interfaces. Every entry decodes its inputs, calls the driver, encodes the result into the
// host's sink, and turns any exception into a status: nothing but C crosses back to berthd.
#include <exception>
#include <string>

#include "berth/sdk/codec.hpp"
#include "berth/sdk/plugin.hpp"

namespace berth::sdk {
namespace detail {
namespace {

// The per-call context a driver sees, over the host's berth_call.
class CallContext final : public Context {
 public:
  explicit CallContext(const berth_call* call)
      : Context(std::string(view(call->request_id))), call_(call) {
    if (call->deadline_unix_ms > 0) {
      set_deadline(std::chrono::system_clock::time_point(
          std::chrono::milliseconds(call->deadline_unix_ms)));
    }
  }
  [[nodiscard]] bool cancelled() const noexcept override {
    return call_->cancelled != nullptr && call_->cancelled(call_->host_ctx) != 0;
  }

 private:
  const berth_call* call_;
};

berth_status fail(const berth_call* call, const Error& error) noexcept {
  return report_error(const_cast<berth_sink*>(&call->error), error);
}

// Runs `body` (returning Status) with every exception turned into BERTH_ERR_INTERNAL.
template <class F>
berth_status guarded(const berth_call* call, F&& body) noexcept {
  try {
    Status s = body();
    if (s) return BERTH_OK;
    return fail(call, s.error());
  } catch (const std::exception& e) {
    return fail(call, Error{ErrorCode::kInternal, std::string("driver threw: ") + e.what()});
  } catch (...) {
    return fail(call, Error{ErrorCode::kInternal, "driver threw an unknown exception"});
  }
}

template <class Iface>
Iface& driver_of(void* self) {
  return *static_cast<DriverInstance<Iface>*>(self)->driver;
}

template <class T>
Status write_json(berth_sink* out, const Result<T>& result) {
  if (!result) return result.error();
  write_sink(out, codec::to_json(*result));
  return {};
}

// Decodes a JSON argument or returns its error from the enclosing lambda.
#define BERTH_DECODE(var, Type, text)                                                   \
  auto var##_r = codec::from_json<Type>((text).size == 0 ? std::string_view("{}") : view(text)); \
  if (!var##_r) return std::move(var##_r).error().wrap(#var); \
  Type& var = *var##_r

// ---- storage --------------------------------------------------------------------------------

namespace storage {
StorageDriver& d(void* self) { return driver_of<StorageDriver>(self); }

berth_status info(void* self, const berth_call* call, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    write_sink(out, codec::to_json(d(self).info()));
    return {};
  });
}
berth_status prepare(void* self, const berth_call* call, berth_str key, berth_str parent,
                     berth_str labels_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(labels, Labels, labels_json);
    CallContext ctx(call);
    return write_json(out, d(self).prepare(ctx, view(key), view(parent), labels));
  });
}
berth_status view_(void* self, const berth_call* call, berth_str key, berth_str parent,
                   berth_str labels_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(labels, Labels, labels_json);
    CallContext ctx(call);
    return write_json(out, d(self).view(ctx, view(key), view(parent), labels));
  });
}
berth_status mounts(void* self, const berth_call* call, berth_str key, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).mounts(ctx, view(key)));
  });
}
berth_status commit(void* self, const berth_call* call, berth_str name, berth_str key,
                    berth_str labels_json) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(labels, Labels, labels_json);
    CallContext ctx(call);
    return d(self).commit(ctx, view(name), view(key), labels);
  });
}
berth_status remove(void* self, const berth_call* call, berth_str key) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).remove(ctx, view(key));
  });
}
berth_status stat(void* self, const berth_call* call, berth_str key, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).stat(ctx, view(key)));
  });
}
berth_status update_labels(void* self, const berth_call* call, berth_str key,
                           berth_str labels_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(labels, Labels, labels_json);
    CallContext ctx(call);
    return write_json(out, d(self).update_labels(ctx, view(key), labels));
  });
}
berth_status usage(void* self, const berth_call* call, berth_str key, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).usage(ctx, view(key)));
  });
}
berth_status walk(void* self, const berth_call* call, berth_str filter_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(filter, WalkFilter, filter_json);
    CallContext ctx(call);
    return write_json(out, d(self).walk(ctx, filter));
  });
}
berth_status cleanup(void* self, const berth_call* call) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).cleanup(ctx);
  });
}

const berth_storage_vtable kTable = {
    sizeof(berth_storage_vtable), &info, &prepare, &view_, &mounts, &commit, &remove,
    &stat, &update_labels, &usage, &walk, &cleanup};
}  // namespace storage

// ---- network --------------------------------------------------------------------------------

namespace network {
NetworkDriver& d(void* self) { return driver_of<NetworkDriver>(self); }

berth_status info(void* self, const berth_call* call, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    write_sink(out, codec::to_json(d(self).info()));
    return {};
  });
}
berth_status create_network(void* self, const berth_call* call, berth_str spec_json) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(spec, NetworkSpec, spec_json);
    CallContext ctx(call);
    return d(self).create_network(ctx, spec);
  });
}
berth_status delete_network(void* self, const berth_call* call, berth_str nid) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).delete_network(ctx, view(nid));
  });
}
berth_status create_endpoint(void* self, const berth_call* call, berth_str spec_json,
                             berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(spec, EndpointSpec, spec_json);
    CallContext ctx(call);
    return write_json(out, d(self).create_endpoint(ctx, spec));
  });
}
berth_status delete_endpoint(void* self, const berth_call* call, berth_str nid, berth_str eid) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).delete_endpoint(ctx, view(nid), view(eid));
  });
}
berth_status join(void* self, const berth_call* call, berth_str spec_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(spec, JoinSpec, spec_json);
    CallContext ctx(call);
    return write_json(out, d(self).join(ctx, spec));
  });
}
berth_status leave(void* self, const berth_call* call, berth_str nid, berth_str eid) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).leave(ctx, view(nid), view(eid));
  });
}
berth_status program(void* self, const berth_call* call, berth_str nid, berth_str eid,
                     berth_str ports_json) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(ports, std::vector<PortMapping>, ports_json);
    CallContext ctx(call);
    return d(self).program_external_connectivity(ctx, view(nid), view(eid), ports);
  });
}
berth_status revoke(void* self, const berth_call* call, berth_str nid, berth_str eid) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).revoke_external_connectivity(ctx, view(nid), view(eid));
  });
}

const berth_network_vtable kTable = {
    sizeof(berth_network_vtable), &info,  &create_network, &delete_network, &create_endpoint,
    &delete_endpoint,             &join,  &leave,          &program,        &revoke};
}  // namespace network

// ---- registry -------------------------------------------------------------------------------

namespace registry {
RegistryTransport& d(void* self) { return driver_of<RegistryTransport>(self); }

class WriterSink final : public ByteSink {
 public:
  explicit WriterSink(berth_writer* w) : w_(w) {}
  Status write(std::string_view data) override {
    berth_status s = w_->write(w_->ctx, data.data(), data.size());
    if (s == BERTH_OK) return {};
    return make_error(error_code_from_status(s), "host refused blob data");
  }

 private:
  berth_writer* w_;
};

class ReaderSource final : public ByteSource {
 public:
  explicit ReaderSource(berth_reader* r) : r_(r) {}
  Result<size_t> read(char* buffer, size_t capacity) override {
    int64_t n = r_->read(r_->ctx, buffer, capacity);
    if (n >= 0) return static_cast<size_t>(n);
    return make_error(error_code_from_status(static_cast<berth_status>(-n)),
                      "host failed to supply blob data");
  }

 private:
  berth_reader* r_;
};

std::vector<std::string> accept_list(berth_str accept_json) {
  if (accept_json.size == 0) return {};
  auto r = codec::from_json<std::vector<std::string>>(view(accept_json));
  return r ? *r : std::vector<std::string>{};
}

berth_status info(void* self, const berth_call* call, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    write_sink(out, codec::to_json(d(self).info()));
    return {};
  });
}
berth_status login(void* self, const berth_call* call, berth_str host, berth_str creds_json,
                   berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(creds, Credentials, creds_json);
    CallContext ctx(call);
    return write_json(out, d(self).login(ctx, view(host), creds));
  });
}
berth_status resolve(void* self, const berth_call* call, berth_str repo_json, berth_str ref,
                     berth_str accept_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(repo, RepoRef, repo_json);
    CallContext ctx(call);
    return write_json(out, d(self).resolve(ctx, repo, view(ref), accept_list(accept_json)));
  });
}
berth_status fetch_manifest(void* self, const berth_call* call, berth_str repo_json,
                            berth_str ref, berth_str accept_json, berth_sink* out_desc,
                            berth_sink* out_body) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(repo, RepoRef, repo_json);
    CallContext ctx(call);
    auto m = d(self).fetch_manifest(ctx, repo, view(ref), accept_list(accept_json));
    if (!m) return m.error();
    write_sink(out_desc, codec::to_json(m->descriptor));
    write_sink(out_body, m->body);
    return {};
  });
}
berth_status fetch_blob(void* self, const berth_call* call, berth_str repo_json,
                        berth_str desc_json, uint64_t offset, berth_writer* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(repo, RepoRef, repo_json);
    BERTH_DECODE(desc, Descriptor, desc_json);
    CallContext ctx(call);
    WriterSink sink(out);
    return d(self).fetch_blob(ctx, repo, desc, offset, sink);
  });
}
berth_status blob_exists(void* self, const berth_call* call, berth_str repo_json,
                         berth_str digest, int32_t* out_exists) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(repo, RepoRef, repo_json);
    CallContext ctx(call);
    auto r = d(self).blob_exists(ctx, repo, view(digest));
    if (!r) return r.error();
    *out_exists = *r ? 1 : 0;
    return {};
  });
}
berth_status push_blob(void* self, const berth_call* call, berth_str repo_json,
                       berth_str desc_json, berth_str mount_from, berth_reader* source) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(repo, RepoRef, repo_json);
    BERTH_DECODE(desc, Descriptor, desc_json);
    CallContext ctx(call);
    ReaderSource src(source);
    return d(self).push_blob(ctx, repo, desc, view(mount_from), src);
  });
}
berth_status push_manifest(void* self, const berth_call* call, berth_str repo_json, berth_str tag,
                           berth_str media_type, berth_str body, berth_sink* out_digest) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(repo, RepoRef, repo_json);
    CallContext ctx(call);
    auto r = d(self).push_manifest(ctx, repo, view(tag), view(media_type), view(body));
    if (!r) return r.error();
    write_sink(out_digest, *r);
    return {};
  });
}
berth_status list_tags(void* self, const berth_call* call, berth_str repo_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(repo, RepoRef, repo_json);
    CallContext ctx(call);
    return write_json(out, d(self).list_tags(ctx, repo));
  });
}

berth_status search(void* self, const berth_call* call, berth_str query_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(query, SearchQuery, query_json);
    CallContext ctx(call);
    return write_json(out, d(self).search(ctx, query));
  });
}

const berth_registry_vtable kTable = {
    sizeof(berth_registry_vtable), &info, &login, &resolve, &fetch_manifest, &fetch_blob,
    &blob_exists, &push_blob, &push_manifest, &list_tags, &search};
}  // namespace registry

// ---- isolation ------------------------------------------------------------------------------

namespace isolation {
IsolationBackend& d(void* self) { return driver_of<IsolationBackend>(self); }

berth_status info(void* self, const berth_call* call, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    write_sink(out, codec::to_json(d(self).info()));
    return {};
  });
}
berth_status create(void* self, const berth_call* call, berth_str id, berth_str oci_spec_json,
                    berth_str spec_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(spec, CreateSpec, spec_json);
    spec.oci_json = std::string(view(oci_spec_json));  // passed through, never re-encoded
    CallContext ctx(call);
    auto pid = d(self).create(ctx, view(id), spec);
    if (!pid) return pid.error();
    write_sink(out, codec::to_json(codec::Pid{*pid}));
    return {};
  });
}
berth_status start(void* self, const berth_call* call, berth_str id, berth_str exec_id) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).start(ctx, view(id), view(exec_id));
  });
}
berth_status state(void* self, const berth_call* call, berth_str id, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).state(ctx, view(id)));
  });
}
berth_status kill(void* self, const berth_call* call, berth_str id, int32_t signal, int32_t all) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).kill(ctx, view(id), signal, all != 0);
  });
}
berth_status pause(void* self, const berth_call* call, berth_str id) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).pause(ctx, view(id));
  });
}
berth_status resume(void* self, const berth_call* call, berth_str id) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).resume(ctx, view(id));
  });
}
berth_status exec(void* self, const berth_call* call, berth_str id, berth_str exec_id,
                  berth_str spec_json, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(spec, ExecSpec, spec_json);
    CallContext ctx(call);
    auto pid = d(self).exec(ctx, view(id), view(exec_id), spec);
    if (!pid) return pid.error();
    write_sink(out, codec::to_json(codec::Pid{*pid}));
    return {};
  });
}
berth_status attach(void* self, const berth_call* call, berth_str id, berth_str exec_id,
                    berth_str options_json, int32_t* out_fd) {
  return guarded(call, [&]() -> Status {
    BERTH_DECODE(options, AttachOptions, options_json);
    CallContext ctx(call);
    auto fd = d(self).attach(ctx, view(id), view(exec_id), options);
    if (!fd) return fd.error();
    *out_fd = *fd;
    return {};
  });
}
berth_status resize(void* self, const berth_call* call, berth_str id, berth_str exec_id,
                    uint32_t rows, uint32_t cols) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).resize(ctx, view(id), view(exec_id), rows, cols);
  });
}
berth_status update(void* self, const berth_call* call, berth_str id, berth_str resources) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return d(self).update(ctx, view(id), view(resources));
  });
}
berth_status stats(void* self, const berth_call* call, berth_str id, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).stats(ctx, view(id)));
  });
}
berth_status pids(void* self, const berth_call* call, berth_str id, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).pids(ctx, view(id)));
  });
}
berth_status remove(void* self, const berth_call* call, berth_str id, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).remove(ctx, view(id)));
  });
}
berth_status list(void* self, const berth_call* call, berth_sink* out) {
  return guarded(call, [&]() -> Status {
    CallContext ctx(call);
    return write_json(out, d(self).list(ctx));
  });
}

const berth_isolation_vtable kTable = {
    sizeof(berth_isolation_vtable), &info, &create, &start, &state, &kill, &pause, &resume,
    &exec, &attach, &resize, &update, &stats, &pids, &remove, &list};
}  // namespace isolation

#undef BERTH_DECODE

}  // namespace

// ---- host services, init, registration ------------------------------------------------------

bool HostServices::enabled(LogLevel level) const noexcept {
  return api_ != nullptr && api_->log_enabled != nullptr &&
         api_->log_enabled(api_->ctx, static_cast<int32_t>(level)) != 0;
}

void HostServices::write(LogLevel level, std::string_view message, const Field* fields,
                         size_t count) noexcept {
  if (api_ == nullptr || api_->log == nullptr) return;
  try {
    std::string fields_json;
    if (count > 0) {
      Labels flat;
      for (size_t i = 0; i < count; ++i) {
        flat.emplace(std::string(fields[i].key), std::string(fields[i].value));
      }
      fields_json = codec::to_json(flat);
    }
    api_->log(api_->ctx, static_cast<int32_t>(level), borrow(message), borrow(fields_json));
  } catch (...) {  // logging must never fail a driver call
  }
}

void HostServices::task_exited(const TaskExit& exit) noexcept {
  if (api_ == nullptr || api_->task_exit == nullptr) return;
  try {
    std::string json = codec::to_json(exit);
    api_->task_exit(api_->ctx, borrow(json));
  } catch (...) {  // an exit report must never take the backend's thread down
  }
}

Result<Credentials> HostServices::lookup(std::string_view registry_host) {
  if (api_ == nullptr || api_->credentials == nullptr) return Credentials{};
  std::string out;
  berth_sink sink{&out, [](void* ctx, const char* data, size_t size) {
                    static_cast<std::string*>(ctx)->append(data, size);
                  }};
  berth_status s = api_->credentials(api_->ctx, borrow(registry_host), &sink);
  if (s != BERTH_OK) {
    return make_error(error_code_from_status(s), "credentials for " + std::string(registry_host));
  }
  if (out.empty()) return Credentials{};
  return codec::from_json<Credentials>(out);
}

InitContext init_context_of(const berth_driver_init* init, HostServices& host) {
  InitContext ctx;
  ctx.driver_id = std::string(view(init->driver_id));
  ctx.config_json = std::string(view(init->config_json));
  if (ctx.config_json.empty()) ctx.config_json = "{}";
  ctx.root_dir = std::string(view(init->root_dir));
  ctx.state_dir = std::string(view(init->state_dir));
  ctx.core_version = std::string(view(init->core_version));
  ctx.log = &host;
  ctx.task_exits = &host;
  ctx.credentials = &host;
  return ctx;
}

berth_status report_error(berth_sink* sink, const Error& error) noexcept {
  try {
    write_sink(sink, error.message);
  } catch (...) {
  }
  auto code = static_cast<berth_status>(error.code);
  return code == BERTH_OK ? BERTH_ERR_INTERNAL : code;
}

const berth_storage_vtable* storage_vtable() noexcept { return &storage::kTable; }
const berth_network_vtable* network_vtable() noexcept { return &network::kTable; }
const berth_registry_vtable* registry_vtable() noexcept { return &registry::kTable; }
const berth_isolation_vtable* isolation_vtable() noexcept { return &isolation::kTable; }

berth_status run_init(const berth_registrar* registrar, berth_sink* error,
                      RegisterFn register_fn) noexcept {
  try {
    Registrar r(registrar);
    Status s = register_fn(r);
    if (s) return BERTH_OK;
    return report_error(error, s.error());
  } catch (const std::exception& e) {
    return report_error(error, Error{ErrorCode::kInternal, std::string("init threw: ") + e.what()});
  } catch (...) {
    return report_error(error, Error{ErrorCode::kInternal, "init threw an unknown exception"});
  }
}

}  // namespace detail

Status Registrar::add(uint32_t kind, std::string_view name, const void* vtable,
                      berth_status (*create)(const berth_driver_init*, void**),
                      void (*destroy)(void*)) {
  berth_driver_def def{sizeof(berth_driver_def), kind, detail::borrow(name), vtable, create,
                       destroy};
  berth_status s = registrar_->add_driver(registrar_->ctx, &def);
  if (s == BERTH_OK) return {};
  return make_error(error_code_from_status(s), "register driver " + std::string(name));
}

}  // namespace berth::sdk
