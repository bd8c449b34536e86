// The SDK network conformance suite against both first-party network drivers through their
// plugin files (berth-net-bridge.so, berth-net-host.so), loaded with berth::sdk::host exactly as
// berthd loads them. CTest runs this program under `unshare --net`: the bridges, veths and
// nftables tables it makes live in that namespace and go with it.
#include "berth/sdk/host/plugin_library.hpp"
#include "berth/sdk/testing/network_conformance.hpp"
#include "tests/conformance/plugin_test_support.hpp"

namespace {

namespace sdk = berth::sdk;

sdk::Result<std::unique_ptr<sdk::NetworkDriver>> create_from(const char* plugin, const char* id,
                                                             const sdk::testing::NetworkDirs& dirs) {
  auto def = berth::tests::plugin_driver_def(plugin, id);
  if (!def) return std::move(def).error();
  sdk::host::HostInit init;
  init.driver_id = id;
  init.root_dir = dirs.root_dir;
  init.state_dir = dirs.state_dir;
  init.core_version = "test";
  init.log = &berth::tests::plugin_test_logger(id);
  return sdk::host::create_network(*def, init);
}

sdk::testing::NetworkFixture bridge_fixture() {
  sdk::testing::NetworkFixture f;
  f.create = [](const sdk::testing::NetworkDirs& dirs) {
    return create_from(BERTH_NET_BRIDGE_PLUGIN_PATH, "network.bridge", dirs);
  };
  f.options_json = R"({"com.docker.network.bridge.name":"br-conform"})";
  return f;
}

sdk::testing::NetworkFixture host_fixture() {
  sdk::testing::NetworkFixture f;
  f.create = [](const sdk::testing::NetworkDirs& dirs) {
    return create_from(BERTH_NET_HOST_PLUGIN_PATH, "network.host", dirs);
  };
  f.gives_interfaces = false;
  f.publishes_ports = false;
  f.predefined = true;
  return f;
}

}  // namespace

BERTH_NETWORK_CONFORMANCE(NetBridgeConformance, &bridge_fixture);
BERTH_NETWORK_CONFORMANCE(NetHostConformance, &host_fixture);
