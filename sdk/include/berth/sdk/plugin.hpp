// Writing a plugin. This is the one place that says what a driver class must provide:
//
//   1. Derive from the interface of its kind and implement every pure virtual call:
//        storage     berth::sdk::StorageDriver     (storage_driver.hpp; or derive from
//                    storage::SnapshotDriverBase, storage/snapshot_driver_base.hpp, which keeps
//                    the records and leaves only the filesystem steps)
//        network     berth::sdk::NetworkDriver     (network_driver.hpp)
//        registry    berth::sdk::RegistryTransport (registry_transport.hpp)
//        isolation   berth::sdk::IsolationBackend  (isolation_backend.hpp)
//   2. Give it a public static factory, called when berthd enables the driver:
//        static berth::sdk::Result<std::unique_ptr<MyDriver>> create(const berth::sdk::InitContext&);
//      InitContext carries the driver id, its root directory, its daemon.json section
//      (config_json; read it with berth/sdk/config_reader.hpp) and the host's logger. An error
//      returned here is what `berth plugin ls` shows for the driver.
//   3. Register it in the plugin's entry block (one per plugin):
//
//   BERTH_PLUGIN("storage-zfs", "1.0.0", "acme") {
//     return registrar.add_storage<ZfsDriver>("zfs");   // driver id "storage.zfs"
//   }
//
// registrar.add_<kind><T>() checks 1 and 2 at compile time (check_driver_class below) and says
// which is missing. A complete, tested example: sdk/examples/network-acme/.
//
// BERTH_PLUGIN exports exactly one symbol, the alias berth_plugin_abi_v<MAJOR>, whose descriptor
// carries the ABI version, so berthd can refuse a mismatched plugin before running its code.
#pragma once

#include <boost/dll/alias.hpp>
#include <concepts>
#include <memory>
#include <string_view>
#include <type_traits>

#include "berth/sdk/abi.h"
#include "berth/sdk/detail/plugin_support.hpp"

namespace berth::sdk {

// What registrar.add_<kind><T>() requires of a driver class T of interface Iface, each with
// the sentence a compiler prints when it is missing.
template <class T, class Iface>
constexpr void check_driver_class() {
  static_assert(std::derived_from<T, Iface>,
                "a driver class must derive from the interface of its kind (see plugin.hpp)");
  static_assert(!std::is_abstract_v<T>,
                "a driver class must implement every pure virtual call of its interface");
  static_assert(requires(const InitContext& ctx) {
    { T::create(ctx) } -> std::same_as<Result<std::unique_ptr<T>>>;
  }, "a driver class needs `static Result<std::unique_ptr<T>> create(const InitContext&)`");
}

class Registrar {
 public:
  explicit Registrar(const berth_registrar* registrar) : registrar_(registrar) {}

  template <class T>
  Status add_storage(std::string_view name) {
    check_driver_class<T, StorageDriver>();
    return add(BERTH_KIND_STORAGE, name, detail::storage_vtable(),
               &detail::create_driver<StorageDriver, T>, &detail::destroy_driver<StorageDriver>);
  }
  template <class T>
  Status add_network(std::string_view name) {
    check_driver_class<T, NetworkDriver>();
    return add(BERTH_KIND_NETWORK, name, detail::network_vtable(),
               &detail::create_driver<NetworkDriver, T>, &detail::destroy_driver<NetworkDriver>);
  }
  template <class T>
  Status add_registry(std::string_view name) {
    check_driver_class<T, RegistryTransport>();
    return add(BERTH_KIND_REGISTRY, name, detail::registry_vtable(),
               &detail::create_driver<RegistryTransport, T>,
               &detail::destroy_driver<RegistryTransport>);
  }
  template <class T>
  Status add_isolation(std::string_view name) {
    check_driver_class<T, IsolationBackend>();
    return add(BERTH_KIND_ISOLATION, name, detail::isolation_vtable(),
               &detail::create_driver<IsolationBackend, T>,
               &detail::destroy_driver<IsolationBackend>);
  }

 private:
  Status add(uint32_t kind, std::string_view name, const void* vtable,
             berth_status (*create)(const berth_driver_init*, void**), void (*destroy)(void*));

  const berth_registrar* registrar_;
};

namespace detail {
using RegisterFn = Status (*)(Registrar&);
berth_status run_init(const berth_registrar* registrar, berth_sink* error,
                      RegisterFn register_fn) noexcept;
}  // namespace detail

}  // namespace berth::sdk

#define BERTH_SDK_CONCAT_(a, b) a##b
#define BERTH_SDK_CONCAT(a, b) BERTH_SDK_CONCAT_(a, b)
#define BERTH_SDK_ENTRY_ALIAS BERTH_SDK_CONCAT(berth_plugin_abi_v, BERTH_SDK_ABI_MAJOR)

#if defined(__clang__)
#define BERTH_SDK_TOOLCHAIN "clang " __clang_version__
#elif defined(__GNUC__)
#define BERTH_SDK_TOOLCHAIN "gcc " __VERSION__
#else
#define BERTH_SDK_TOOLCHAIN "unknown compiler"
#endif

#define BERTH_PLUGIN(NAME, VERSION, VENDOR)                                                   \
  static ::berth::sdk::Status berth_plugin_register(::berth::sdk::Registrar& registrar);     \
  namespace berth_plugin_entry {                                                              \
  static berth_status init(const berth_registrar* registrar, berth_sink* error) noexcept {   \
    return ::berth::sdk::detail::run_init(registrar, error, &berth_plugin_register);         \
  }                                                                                           \
  const berth_plugin_info* entry() {                                                          \
    static const berth_plugin_info info = {                                                   \
        sizeof(berth_plugin_info), BERTH_SDK_ABI_MAJOR, BERTH_SDK_ABI_MINOR, NAME, VERSION,  \
        VENDOR, BERTH_SDK_VERSION, BERTH_SDK_TOOLCHAIN, &init};                               \
    return &info;                                                                             \
  }                                                                                           \
  }                                                                                           \
  BOOST_DLL_ALIAS(berth_plugin_entry::entry, BERTH_SDK_ENTRY_ALIAS)                           \
  static ::berth::sdk::Status berth_plugin_register(                                         \
      [[maybe_unused]] ::berth::sdk::Registrar& registrar)
