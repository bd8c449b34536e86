// Facts about the host for /info and /version.
#pragma once

#include <cstdint>
#include <string>

namespace berth {

struct HostInfo {
  std::string kernel_version;    // uname -r
  std::string operating_system;  // PRETTY_NAME from /etc/os-release
  std::string os_version;        // VERSION_ID
  std::string architecture;      // uname -m ("x86_64")
  std::string go_arch;           // Docker's name for it ("amd64")
  std::string hostname;
  int ncpu = 0;
  int64_t mem_total = 0;
  std::string cgroup_version;  // "1" or "2"
};

HostInfo read_host_info();

}  // namespace berth
