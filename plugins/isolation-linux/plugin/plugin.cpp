// Entry point of berth-isolation-linux.so: registers the Linux backend as "isolation.linux".
#include "berth/sdk/plugin.hpp"

#include "plugin/linux_backend.hpp"

BERTH_PLUGIN("isolation-linux", "0.1.0", "berth") {
  return registrar.add_isolation<berth::plugins::isolation::LinuxBackend>("linux");
}
