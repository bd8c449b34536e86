// The SDK storage conformance suite against the real overlay plugin, through the binary boundary:
// berth-storage-overlay.so loaded with berth::sdk::host, exactly as berthd does.
#include "berth/sdk/testing/storage_conformance.hpp"
#include "tests/conformance/overlay_plugin.hpp"

namespace {

berth::sdk::testing::StorageFixture overlay_fixture() {
  berth::sdk::testing::StorageFixture fixture;
  fixture.create = [](const berth::sdk::testing::StorageDirs& dirs) {
    return berth::tests::create_overlay(dirs.root_dir, dirs.state_dir);
  };
  return fixture;
}

}  // namespace

BERTH_STORAGE_CONFORMANCE(OverlayConformance, &overlay_fixture);
