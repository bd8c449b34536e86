#include "core/common/kernel_floor.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "berth/sdk/detail/syscall_numbers.h"
#include "core/common/unique_fd.hpp"

namespace berth::core::kernel {
namespace {

constexpr unsigned kFsopenCloexec = 1;      // FSOPEN_CLOEXEC
constexpr unsigned kFsconfigSetString = 1;  // FSCONFIG_SET_STRING

bool has_openat2_in_root() {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how)));
  return fd.get() >= 0;
}

// Any answer but ENOSYS means the call exists (the arguments are invalid on purpose).
bool has_mount_setattr() {
  return ::syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0) == 0 || errno != ENOSYS;
}

// fsopen("overlay"), and whether overlay takes "lowerdir+": an unknown key is EINVAL.
void probe_fsconfig(bool& new_api, bool& lowerdir_plus) {
  UniqueFd fs(static_cast<int>(::syscall(SYS_fsopen, "overlay", kFsopenCloexec)));
  new_api = fs.get() >= 0 || errno != ENOSYS;
  lowerdir_plus = fs.get() >= 0 &&
                  ::syscall(SYS_fsconfig, fs.get(), kFsconfigSetString, "lowerdir+", "/", 0) == 0;
}

}  // namespace

std::vector<Feature> probe() {
  bool new_api = false, lowerdir_plus = false;
  probe_fsconfig(new_api, lowerdir_plus);
  return {
      {"openat2 RESOLVE_IN_ROOT", "5.6", has_openat2_in_root(), true,
       "layers, `cp` and volume paths cannot be resolved safely inside a root filesystem"},
      {"mount_setattr", "5.12", has_mount_setattr(), false,
       "no idmapped mounts (userns-remap is refused) and read-only bind mounts are made "
       "read-only one mount at a time"},
      {"fsopen/fsconfig", "5.2", new_api, false,
       "overlay mounts go through mount(2) with relative lowerdir paths"},
      {"overlay lowerdir+", "6.8", lowerdir_plus, false,
       "overlay mounts pass their layers as relative paths in one option string (fewer layers "
       "per container)"},
  };
}

Status check_floor(const std::vector<Feature>& features, const std::string& release) {
  for (const auto& f : features) {
    if (f.required && !f.present) {
      return make_error(ErrorCode::kUnsupported,
                        "this kernel (" + release + ") lacks " + f.name + ", which berthd needs: " +
                            f.without + "; run berthd on Linux >= " + f.since);
    }
  }
  return {};
}

std::vector<std::string> fallback_notes(const std::vector<Feature>& features) {
  std::vector<std::string> notes;
  for (const auto& f : features) {
    if (!f.required && !f.present) {
      notes.push_back(f.name + " (Linux >= " + f.since + ") is missing: " + f.without);
    }
  }
  return notes;
}

}  // namespace berth::core::kernel
