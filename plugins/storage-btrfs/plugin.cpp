// Entry point of berth-storage-btrfs.so: registers the btrfs driver as "storage.btrfs".
#include "berth/sdk/plugin.hpp"

#include "btrfs_driver.hpp"

BERTH_PLUGIN("storage-btrfs", "0.1.0", "berth") {
  return registrar.add_storage<berth::plugins::btrfs::BtrfsDriver>("btrfs");
}
