// The SDK storage conformance suite against the real btrfs plugin, through the binary boundary
// (berth-storage-btrfs.so loaded with berth::sdk::host, exactly as berthd does), on btrfs
// filesystems this program makes on loop devices: once without quotas (usage measured from the
// subvolume trees) and once with quotas enabled (usage from qgroups). Root only; skipped with the
// reason when the host cannot make a btrfs loop device.
#include "berth/sdk/testing/storage_conformance.hpp"
#include "tests/conformance/storage_btrfs_plugin.hpp"

namespace {

using berth::tests::LoopFilesystems;

berth::sdk::testing::StorageFixture btrfs_fixture(LoopFilesystems::Kind kind) {
  berth::sdk::testing::StorageFixture fixture;
  auto mount_point = LoopFilesystems::instance().get(kind);
  if (!mount_point) {
    fixture.create = [error = mount_point.error()](const berth::sdk::testing::StorageDirs&)
        -> berth::sdk::Result<std::unique_ptr<berth::sdk::StorageDriver>> {
      return error.wrap("btrfs loop device");
    };
    return fixture;
  }
  fixture.temp_parent = *mount_point;
  fixture.create = [](const berth::sdk::testing::StorageDirs& dirs) {
    return berth::tests::create_btrfs(dirs.root_dir, dirs.state_dir);
  };
  return fixture;
}

berth::sdk::testing::StorageFixture plain() { return btrfs_fixture(LoopFilesystems::kBtrfs); }
berth::sdk::testing::StorageFixture quotas() {
  return btrfs_fixture(LoopFilesystems::kBtrfsQuotas);
}

}  // namespace

BERTH_STORAGE_CONFORMANCE(BtrfsConformance, &plain);
BERTH_STORAGE_CONFORMANCE(BtrfsQuotaConformance, &quotas);
