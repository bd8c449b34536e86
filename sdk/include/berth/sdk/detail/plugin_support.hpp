// Plugin-side glue between the C ABI and the C++ interfaces. Compiled into every plugin (through
// the berth_sdk_plugin static library and these templates); never seen by the host.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "berth/sdk/abi.h"
#include "berth/sdk/host.hpp"
#include "berth/sdk/isolation_backend.hpp"
#include "berth/sdk/network_driver.hpp"
#include "berth/sdk/registry_transport.hpp"
#include "berth/sdk/storage_driver.hpp"

namespace berth::sdk::detail {

inline std::string_view view(berth_str s) { return {s.data == nullptr ? "" : s.data, s.size}; }
inline berth_str borrow(std::string_view s) { return berth_str{s.data(), s.size()}; }
inline void write_sink(berth_sink* sink, std::string_view data) {
  if (sink != nullptr && sink->write != nullptr) sink->write(sink->ctx, data.data(), data.size());
}

// The host's services as the C++ interfaces a driver expects.
class HostServices final : public Logger, public TaskExitSink, public CredentialProvider {
 public:
  explicit HostServices(const berth_host_api* api) : api_(api) {}
  [[nodiscard]] bool enabled(LogLevel level) const noexcept override;
  void write(LogLevel level, std::string_view message, const Field* fields,
             size_t count) noexcept override;
  void task_exited(const TaskExit& exit) noexcept override;
  Result<Credentials> lookup(std::string_view registry_host) override;

 private:
  const berth_host_api* api_;
};

// What `self` points at for every driver a plugin creates.
template <class Iface>
struct DriverInstance {
  explicit DriverInstance(const berth_host_api* api) : host(api) {}
  HostServices host;
  std::unique_ptr<Iface> driver;
};

InitContext init_context_of(const berth_driver_init* init, HostServices& host);
berth_status report_error(berth_sink* sink, const Error& error) noexcept;

// The C vtables of each kind, implemented once over the C++ interfaces (plugin_thunks.cpp).
const berth_storage_vtable* storage_vtable() noexcept;
const berth_network_vtable* network_vtable() noexcept;
const berth_registry_vtable* registry_vtable() noexcept;
const berth_isolation_vtable* isolation_vtable() noexcept;

template <class Iface, class Impl>
berth_status create_driver(const berth_driver_init* init, void** out_self) noexcept {
  try {
    auto instance = std::make_unique<DriverInstance<Iface>>(init->host);
    InitContext ctx = init_context_of(init, instance->host);
    Result<std::unique_ptr<Impl>> created = Impl::create(ctx);
    if (!created) return report_error(const_cast<berth_sink*>(&init->error), created.error());
    instance->driver = std::move(*created);
    *out_self = instance.release();
    return BERTH_OK;
  } catch (const std::exception& e) {
    return report_error(const_cast<berth_sink*>(&init->error),
                        Error{ErrorCode::kInternal, std::string("create driver: ") + e.what()});
  } catch (...) {
    return report_error(const_cast<berth_sink*>(&init->error),
                        Error{ErrorCode::kInternal, "create driver: unknown exception"});
  }
}

template <class Iface>
void destroy_driver(void* self) noexcept {
  try {
    delete static_cast<DriverInstance<Iface>*>(self);
  } catch (...) {  // a destructor that throws must not take the daemon down
  }
}

}  // namespace berth::sdk::detail
