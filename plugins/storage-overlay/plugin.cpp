// Entry point of berth-storage-overlay.so: registers the overlay driver as "storage.overlay".
#include "berth/sdk/plugin.hpp"

#include "overlay_driver.hpp"

BERTH_PLUGIN("storage-overlay", "0.1.0", "berth") {
  return registrar.add_storage<berth::plugins::overlay::OverlayDriver>("overlay");
}
