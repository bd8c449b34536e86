// The network driver conformance suite: what the core relies on from any NetworkDriver (the call
// order and idempotent inverses network_driver.hpp states), in GoogleTest, run by every network
// driver vendor against its own driver, best through the loaded .so (sdk::host::load_plugin +
// create_network), exactly as berthd uses it. Cases: create and delete of a network (again, and
// replayed with restore), an endpoint joined to a namespace the suite made (its interface there,
// up, with its address), leave and delete that leave no link behind (also after the namespace was
// dropped first, as berthd does: within 10 seconds there), published ports programmed
// and revoked, unknown ids refused, and a new driver instance on the same directories adopting
// what the previous one made (the host restarted).
//
// It makes real links, rules and sysctls, so it needs root AND a network namespace made for it:
// every case is skipped unless the program started with nothing but loopback (run it under
// `unshare --net`, as this tree's CTest entry does); it never touches the host's networking.
//
// Instantiate it once in a test executable linked with berth::sdk_testing (and GTest::gtest_main):
//
//   BERTH_NETWORK_CONFORMANCE(AcmeConformance, []() -> berth::sdk::testing::NetworkFixture {
//     berth::sdk::testing::NetworkFixture f;
//     f.create = [](const berth::sdk::testing::NetworkDirs& dirs)
//         -> berth::sdk::Result<std::unique_ptr<berth::sdk::NetworkDriver>> {
//       ...  // load the plugin, sdk::host::create_network(def, init with dirs)
//     };
//     return f;
//   });
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "berth/sdk/network_driver.hpp"
#include "berth/sdk/result.hpp"

namespace berth::sdk::testing {

// The directories a driver instance is created on; a fresh temporary tree per case, passed again
// unchanged when the driver is re-created (the host restarting).
struct NetworkDirs {
  std::string root_dir;   // persistent
  std::string state_dir;  // volatile
};

struct NetworkFixture {
  // Required. A driver on `dirs`; called at the start of each case and again on the same
  // directories after the previous instance was destroyed. kUnsupported skips the case.
  std::function<Result<std::unique_ptr<NetworkDriver>>(const NetworkDirs& dirs)> create;
  // Whether the driver gives each endpoint an interface with its address in the container's
  // namespace (bridge, macvlan: true) or shares a namespace as it is (host: false).
  bool gives_interfaces = true;
  // Whether the driver's one network is predefined (host): the cases make it with restore = true,
  // as berthd replays it, instead of creating it.
  bool predefined = false;
  // Whether program_external_connectivity publishes ports (false: the cases expect kUnsupported).
  bool publishes_ports = true;
  // The network the cases make: driver options (JSON object of strings) and IPv4 range.
  std::string options_json = "{}";
  std::string subnet = "10.231.7.0/24";
  std::string gateway = "10.231.7.1";
  // Where the per-case trees are made; empty: $TMPDIR, else /tmp.
  std::string temp_parent;
  // Cases this driver does not claim to pass: case name -> reason shown when it is skipped.
  std::map<std::string, std::string, std::less<>> skip;
};

using NetworkFixtureFactory = std::function<NetworkFixture()>;

// Registers every case under `suite_name`; the factory is called once per case.
bool register_network_conformance(const char* suite_name, NetworkFixtureFactory factory,
                                  const char* file, int line);

// The names of the cases, in registration order.
std::vector<std::string> network_conformance_cases();

}  // namespace berth::sdk::testing

#define BERTH_NETWORK_CONFORMANCE(SuiteName, ...)                                            \
  [[maybe_unused]] static const bool berth_network_conformance_registered_##SuiteName =      \
      ::berth::sdk::testing::register_network_conformance(#SuiteName, __VA_ARGS__, __FILE__, \
                                                          __LINE__)
