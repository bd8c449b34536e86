#include "core/common/host_info.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

namespace berth {
namespace {

std::string os_release_value(const std::string& key) {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) == 0) {
      std::string v = line.substr(key.size() + 1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return {};
}

}  // namespace

HostInfo read_host_info() {
  HostInfo h;
  struct utsname u {};
  if (::uname(&u) == 0) {
    h.kernel_version = u.release;
    h.architecture = u.machine;
  }
  h.go_arch = h.architecture == "x86_64"    ? "amd64"
              : h.architecture == "aarch64" ? "arm64"
                                            : h.architecture;
  h.operating_system = os_release_value("PRETTY_NAME");
  if (h.operating_system.empty()) h.operating_system = "Linux";
  h.os_version = os_release_value("VERSION_ID");
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) h.hostname = host;
  h.ncpu = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  struct sysinfo si {};
  if (::sysinfo(&si) == 0) h.mem_total = static_cast<int64_t>(si.totalram) * si.mem_unit;
  struct statfs fs {};
  h.cgroup_version =
      (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) ? "2" : "1";
  return h;
}

}  // namespace berth
