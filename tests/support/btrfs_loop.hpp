// A throw-away btrfs filesystem for tests: a sparse image file, formatted with mkfs.btrfs
// (btrfs-progs), attached to a free loop device and mounted on a fresh temporary directory.
// Whatever happens to the test, the destructor takes it all down again: everything mounted at or
// below the mount point is unmounted (deepest first, lazily if still busy), the loop device is
// detached (it is set up with LO_FLAGS_AUTOCLEAR, so the kernel frees it once unmounted even if
// the process dies first), and the image file and directories are removed.
//
//   auto fs = berth::testing::BtrfsLoop::create();
//   if (!fs && fs.error().code == berth::ErrorCode::kUnsupported) GTEST_SKIP() <<
//   fs.error().message; ASSERT_TRUE(fs) << fs.error().message; std::string root =
//   (*fs)->mount_point();   // /tmp/berth-btrfs-XXXXXX/mnt
//
// Parallel test processes each get their own loop device (LOOP_CTL_GET_FREE + LOOP_CONFIGURE,
// retried when another process wins the race for the same device).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace berth::testing {

struct BtrfsLoopOptions {
  uint64_t size_mib = 1024;  // sparse: only what is written takes disk space
  // btrfs: enable quotas (qgroups) and wait for the initial rescan; xfs: mount with prjquota.
  bool quotas = false;
  // "btrfs"; "ext4" for a same-sized non-btrfs filesystem to compare with or to refuse; "xfs"
  // (with quotas: project quotas enforced, for overlay's size limits).
  std::string filesystem = "btrfs";
  std::string parent;  // where the temporary directory goes; empty: $TMPDIR, else /tmp
};

class BtrfsLoop {
 public:
  // kUnsupported (with the reason) when this host cannot do it: not root, no loop devices, no
  // mkfs for the filesystem, or a kernel without it. Any other error is a real failure.
  static Result<std::unique_ptr<BtrfsLoop>> create(const BtrfsLoopOptions& options = {});
  ~BtrfsLoop();
  BtrfsLoop(const BtrfsLoop&) = delete;
  BtrfsLoop& operator=(const BtrfsLoop&) = delete;

  // Takes everything down now and says what went wrong; the destructor calls it and ignores the
  // answer. A second call does nothing.
  Status teardown();

  [[nodiscard]] const std::string& mount_point() const { return mount_point_; }
  [[nodiscard]] const std::string& device() const { return device_; }
  [[nodiscard]] const std::string& image() const { return image_; }
  // mount_point()/rel
  [[nodiscard]] std::string path(std::string_view rel) const;

 private:
  BtrfsLoop() = default;

  std::string dir_;                         // the temporary directory holding image and mount point
  std::string image_;                       // dir_/disk.img
  std::string mount_point_;                 // dir_/mnt
  std::string device_;                      // /dev/loopN
  uint64_t image_dev_ = 0, image_ino_ = 0;  // identify our image behind the loop device
  bool mounted_ = false;
  bool attached_ = false;
};

}  // namespace berth::testing
