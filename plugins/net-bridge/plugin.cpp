// Entry point of berth-net-bridge.so: registers the bridge driver as "network.bridge".
#include "berth/sdk/plugin.hpp"

#include "bridge_driver.hpp"

BERTH_PLUGIN("net-bridge", "0.1.0", "berth") {
  return registrar.add_network<berth::plugins::bridge::BridgeDriver>("bridge");
}
