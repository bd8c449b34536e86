#include "monitor/capabilities.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/sys_util.hpp"

namespace berth::plugins::isolation {
namespace {

struct CapData {
  __user_cap_data_struct data[2] = {};
};

sdk::Result<CapData> get_caps() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  CapData caps;
  if (::syscall(SYS_capget, &header, caps.data) != 0) return sdk::errno_error("capget");
  return caps;
}

bool permitted_has(const CapData& caps, int cap) {
  return (caps.data[cap / 32].permitted & (1U << (cap % 32))) != 0;
}

void set_bit(__u32 (&words)[2], int cap) { words[cap / 32] |= 1U << (cap % 32); }

}  // namespace

int last_capability() {
  static int cached = -1;
  if (cached >= 0) return cached;
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  if (text) {
    if (auto n = parse_int64(*text)) cached = static_cast<int>(*n);
  }
  if (cached < 0) cached = kMaxKnownCapability;
  return cached;
}

sdk::Status drop_bounding_set(const std::vector<int>& keep) {
  const int last = last_capability();
  for (int cap = 0; cap <= last; ++cap) {
    bool kept = false;
    for (int k : keep) kept = kept || k == cap;
    if (kept) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return sdk::errno_error("drop " + std::string(capability_name(cap)) + " from bounding set");
    }
  }
  return {};
}

sdk::Status switch_user(uint32_t uid, uint32_t gid, const std::vector<uint32_t>& groups) {
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return sdk::errno_error("keep capabilities");
  std::vector<gid_t> list(groups.begin(), groups.end());
  if (::setgroups(list.size(), list.data()) != 0) {
    return sdk::errno_error("setgroups");
  }
  if (::setresgid(gid, gid, gid) != 0) return sdk::errno_error("setgid " + std::to_string(gid));
  if (::setresuid(uid, uid, uid) != 0) return sdk::errno_error("setuid " + std::to_string(uid));
  return {};
}

sdk::Status apply_capabilities(const CapSets& caps) {
  auto current = get_caps();
  if (!current) return std::move(current).error();
  const int last = last_capability();
  __u32 effective[2] = {0, 0}, permitted[2] = {0, 0}, inheritable[2] = {0, 0};
  auto held = [&](int cap) { return cap <= last && permitted_has(*current, cap); };
  for (int cap : caps.permitted) {
    if (held(cap)) set_bit(permitted, cap);
  }
  for (int cap : caps.effective) {
    if (held(cap)) set_bit(effective, cap);
  }
  for (int cap : caps.inheritable) {
    // The kernel only accepts inheritable capabilities that are still in the bounding set.
    if (held(cap) && ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) set_bit(inheritable, cap);
  }
  // An effective capability must be permitted.
  for (int i = 0; i < 2; ++i) effective[i] &= permitted[i];

  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = effective[i];
    data[i].permitted = permitted[i];
    data[i].inheritable = inheritable[i];
  }
  if (::syscall(SYS_capset, &header, data) != 0) return sdk::errno_error("capset");

  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return sdk::errno_error("clear ambient capabilities");
  }
  for (int cap : caps.ambient) {
    const bool can = cap <= last && (permitted[cap / 32] & (1U << (cap % 32))) != 0 &&
                     (inheritable[cap / 32] & (1U << (cap % 32))) != 0;
    if (!can) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      return sdk::errno_error("raise ambient " + std::string(capability_name(cap)));
    }
  }
  return {};
}

}  // namespace berth::plugins::isolation
