#include "core/daemon/exec_root.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "core/common/fs.hpp"
#include "core/common/logging.hpp"

namespace berth::core::daemon {
namespace {

bool on_memory_filesystem(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return false;
  return st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC;
}

// True when the tree holds anything but directories (or cannot be read in full).
bool holds_files(const std::string& path) {
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(
      path, std::filesystem::directory_options::none, ec);
  if (ec) return true;
  for (const auto end = std::filesystem::recursive_directory_iterator(); it != end;
       it.increment(ec)) {
    if (ec) return true;
    if (!it->is_directory(ec) || it->is_symlink(ec)) return true;
  }
  return false;
}

}  // namespace

VolatileExecRoot::VolatileExecRoot(VolatileExecRoot&& other) noexcept
    : path_(std::move(other.path_)), mounted_(other.mounted_) {
  other.mounted_ = false;
}

VolatileExecRoot& VolatileExecRoot::operator=(VolatileExecRoot&& other) noexcept {
  path_ = std::move(other.path_);
  mounted_ = other.mounted_;
  other.mounted_ = false;
  return *this;
}

Result<VolatileExecRoot> VolatileExecRoot::prepare(const std::string& path) {
  auto log = logging::get("daemon");
  BERTH_TRY_STATUS(fs::ensure_dir(path, 0700));
  VolatileExecRoot root;
  root.path_ = path;
  if (on_memory_filesystem(path)) return root;
  if (holds_files(path)) {
    log->warn("exec-root {} is on a disk filesystem and holds state from an earlier berthd: "
              "using it as it is (a tmpfs would hide that state from live restore)",
              path);
    return root;
  }
  if (::mount("tmpfs", path.c_str(), "tmpfs", 0, "mode=0700") != 0) {
    return errno_error("mount a tmpfs on the exec-root " + path +
                       " (it holds runtime state only; put it on a tmpfs such as /run)");
  }
  root.mounted_ = true;
  log->info("exec-root {}: mounted a tmpfs (runtime state must not outlive a reboot)", path);
  return root;
}

void VolatileExecRoot::release() {
  if (!mounted_) return;
  if (holds_files(path_)) return;  // a container's state: the next berthd adopts it
  if (::umount2(path_.c_str(), 0) == 0) {
    mounted_ = false;
  } else if (errno != EBUSY) {
    logging::get("daemon")->warn("unmount the exec-root tmpfs {}: {}", path_,
                                 std::error_code(errno, std::generic_category()).message());
  }
}

}  // namespace berth::core::daemon
