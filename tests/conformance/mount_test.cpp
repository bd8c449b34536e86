// berth::sdk::mount_all / unmount_all on real mounts (root). Every test works in its own TempDir,
// whose destructor unmounts whatever a failed assertion left behind.
#include "berth/sdk/mount.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <iostream>
#include <string>
#include <vector>

#include "berth/sdk/testing/fs.hpp"

namespace berth::sdk {
namespace {

using testing::exists;
using testing::make_dirs;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

class MountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mount tests need root";
    auto t = TempDir::create({}, "berth-mount-test-");
    ASSERT_TRUE(t.has_value()) << t.error().message;
    tmp_ = std::move(*t);
  }
  void TearDown() override {
    if (tmp_.path().empty()) return;
    auto left = mount_points_under(tmp_.path());
    ASSERT_TRUE(left.has_value());
    EXPECT_TRUE(left->empty()) << "the test left " << left->size() << " mount(s) behind";
    EXPECT_TRUE(tmp_.remove().has_value());
  }

  std::string dir(const std::string& name) {
    std::string p = tmp_.sub(name);
    EXPECT_TRUE(make_dirs(p).has_value()) << p;
    return p;
  }
  size_t mounts_at(const std::string& path) {
    auto points = mount_points_under(path);
    return points ? points->size() : 0;
  }

  TempDir tmp_;
};

bool writable(const std::string& path) { return write_file(path, "x").has_value(); }

TEST_F(MountTest, BindReadWrite) {
  std::string src = dir("src"), dst = dir("dst");
  ASSERT_TRUE(write_file(src + "/f", "hello").has_value());
  auto s = mount_all({Mount{"bind", src, "", {"rbind", "rw"}}}, dst);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(read_file(dst + "/f").value_or(""), "hello");
  EXPECT_TRUE(writable(dst + "/g"));
  EXPECT_TRUE(exists(src + "/g"));
  ASSERT_TRUE(unmount_all(dst).has_value());
  EXPECT_EQ(mounts_at(dst), 0u);
}

TEST_F(MountTest, ReadOnlyBindIsRemounted) {
  std::string src = dir("src"), dst = dir("dst");
  ASSERT_TRUE(write_file(src + "/f", "hello").has_value());
  auto m = ScopedMounts::mount({Mount{"bind", src, "", {"bind", "ro"}}}, dst);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(read_file(dst + "/f").value_or(""), "hello");
  EXPECT_FALSE(writable(dst + "/g"));
  EXPECT_TRUE(writable(src + "/g")) << "the source must stay writable";
  struct statvfs st {};
  ASSERT_EQ(::statvfs(dst.c_str(), &st), 0);
  EXPECT_TRUE(st.f_flag & ST_RDONLY);
  EXPECT_TRUE(m->unmount().has_value());
}

TEST_F(MountTest, ReadOnlyRbindCoversSubmounts) {
  std::string src = dir("src"), dst = dir("dst");
  std::string sub = dir("src/sub");
  ASSERT_TRUE(mount_all({Mount{"tmpfs", "tmpfs", "", {"size=1m"}}}, sub).has_value());
  {
    auto m = ScopedMounts::mount({Mount{"bind", src, "", {"rbind", "ro"}}}, dst);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_FALSE(writable(dst + "/top"));
    EXPECT_FALSE(writable(dst + "/sub/inner")) << "a submount of an ro rbind is writable";
    EXPECT_TRUE(writable(sub + "/inner"));
  }
  ASSERT_TRUE(unmount_all(src).has_value());
}

TEST_F(MountTest, OtherFilesystemWithFlagsAndData) {
  std::string dst = dir("dst");
  auto m = ScopedMounts::mount(
      {Mount{"tmpfs", "berth-test", "", {"nosuid", "nodev", "size=2m", "mode=0711"}}}, dst);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  struct statvfs st {};
  ASSERT_EQ(::statvfs(dst.c_str(), &st), 0);
  EXPECT_TRUE(st.f_flag & ST_NOSUID);
  EXPECT_TRUE(st.f_flag & ST_NODEV);
  struct stat s {};
  ASSERT_EQ(::stat(dst.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 07777, 0711u);
}

TEST_F(MountTest, OverlayWithUpperAndLowers) {
  std::string l1 = dir("l1"), l2 = dir("l2"), up = dir("up"), work = dir("work");
  std::string dst = dir("merged");
  ASSERT_TRUE(write_file(l1 + "/a", "from l1").has_value());
  ASSERT_TRUE(write_file(l2 + "/a", "from l2").has_value());
  ASSERT_TRUE(write_file(l1 + "/b", "b").has_value());
  auto m = ScopedMounts::mount(
      {Mount{"overlay",
             "overlay",
             "",
             {"workdir=" + work, "upperdir=" + up, "lowerdir=" + l2 + ":" + l1}}},
      dst);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(read_file(dst + "/a").value_or(""), "from l2") << "leftmost lower is the top";
  EXPECT_EQ(read_file(dst + "/b").value_or(""), "b");
  EXPECT_TRUE(writable(dst + "/c"));
  EXPECT_TRUE(exists(up + "/c"));
}

// 128 lower dirs whose option string is far beyond one page.
class ManyLowersTest : public MountTest {
 protected:
  void SetUp() override {
    MountTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Long directory names so even 128 relative paths stay meaningful.
    base_ = dir("layers-with-a-rather-long-directory-name-to-make-the-options-large");
    for (int i = 0; i < kLayers; ++i) {
      std::string l = base_ + "/" + std::to_string(i) + "/fs";
      ASSERT_TRUE(make_dirs(l).has_value());
      ASSERT_TRUE(write_file(l + "/file-" + std::to_string(i), std::to_string(i)).has_value());
      lowers_ = (i == 0 ? "" : lowers_ + ":") + l;
    }
    ASSERT_GT(lowers_.size(), 4096u);
    upper_ = dir("upper");
    work_ = dir("work");
    merged_ = dir("merged");
  }

  std::vector<Mount> overlay() const {
    return {Mount{"overlay",
                  "overlay",
                  "",
                  {"index=off", "workdir=" + work_, "upperdir=" + upper_, "lowerdir=" + lowers_}}};
  }

  void check_mounted() {
    for (int i = 0; i < kLayers; i += 1) {
      ASSERT_EQ(read_file(merged_ + "/file-" + std::to_string(i)).value_or("<missing>"),
                std::to_string(i));
    }
    EXPECT_TRUE(writable(merged_ + "/new"));
  }

  static constexpr int kLayers = 128;
  std::string base_, lowers_, upper_, work_, merged_;
};

TEST_F(ManyLowersTest, AutoPicksAMethodThatWorks) {
  auto start = std::chrono::steady_clock::now();
  auto m = ScopedMounts::mount(overlay(), merged_);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  std::cout << "[ timing   ] overlay of " << kLayers << " lowers (" << lowers_.size()
            << " bytes of lowerdir) mounted in " << ms << " us\n";
  check_mounted();
}

TEST_F(ManyLowersTest, FsconfigLowerdirPlus) {
  auto m = ScopedMounts::mount(overlay(), merged_, {OverlayMountMethod::kFsconfig});
  if (!m && m.error().code == ErrorCode::kUnsupported) GTEST_SKIP() << m.error().message;
  ASSERT_TRUE(m.has_value()) << m.error().message;
  check_mounted();
}

TEST_F(ManyLowersTest, RelativePathsFromHelperThread) {
  char before[PATH_MAX];
  ASSERT_NE(::getcwd(before, sizeof(before)), nullptr);
  auto m = ScopedMounts::mount(overlay(), merged_, {OverlayMountMethod::kRelativePaths});
  ASSERT_TRUE(m.has_value()) << m.error().message;
  char after[PATH_MAX];
  ASSERT_NE(::getcwd(after, sizeof(after)), nullptr);
  EXPECT_STREQ(before, after) << "the process-wide cwd moved";
  check_mounted();
}

TEST_F(ManyLowersTest, PlainMountDataIsRefusedWithTheReason) {
  auto s = mount_all(overlay(), merged_, {OverlayMountMethod::kMountData});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("one page"), std::string::npos) << s.error().message;
  EXPECT_EQ(mounts_at(merged_), 0u);
}

TEST_F(MountTest, ErrorsNameTheMountInLowercase) {
  std::string up = dir("up"), work = dir("work"), dst = dir("merged");
  const std::vector<Mount> bad = {
      Mount{"overlay",
            "overlay",
            "",
            {"workdir=" + work, "upperdir=" + up, "lowerdir=" + tmp_.sub("missing")}}};
  for (auto method : {OverlayMountMethod::kAuto, OverlayMountMethod::kRelativePaths}) {
    auto s = mount_all(bad, dst, {method});
    ASSERT_FALSE(s.has_value());
    const std::string prefix = "mount overlay on " + dst + ": ";
    EXPECT_EQ(s.error().message.rfind(prefix, 0), 0u) << s.error().message;
    EXPECT_NE(s.error().message.find("no such file or directory"), std::string::npos)
        << s.error().message;
  }
  auto s = mount_all(bad, dst, {OverlayMountMethod::kFsconfig});
  ASSERT_FALSE(s.has_value());
  std::cout << "fsconfig error: " << s.error().message << "\n";
  EXPECT_EQ(s.error().message.rfind("mount overlay on " + dst, 0), 0u) << s.error().message;
}

TEST_F(MountTest, FailedMountUnwindsTheEarlierOnes) {
  std::string src = dir("src"), dst = dir("dst");
  ASSERT_TRUE(make_dirs(src + "/sub").has_value());
  const std::vector<Mount> mounts = {
      Mount{"bind", src, "", {"rbind", "rw"}},
      Mount{"tmpfs", "tmpfs", "sub", {"size=1m"}},
      Mount{"bind", tmp_.sub("does-not-exist"), "sub", {"bind"}},
  };
  auto s = mount_all(mounts, dst);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("does-not-exist"), std::string::npos) << s.error().message;
  EXPECT_EQ(mounts_at(dst), 0u) << "a failed mount_all left mounts behind";
}

TEST_F(MountTest, TargetEscapingTheRootIsRefused) {
  std::string dst = dir("dst");
  auto s = mount_all({Mount{"tmpfs", "tmpfs", "../outside", {}}}, dst);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(mounts_at(tmp_.path()), 0u);
}

TEST_F(MountTest, UnmountAllTakesStackedAndNestedMounts) {
  std::string dst = dir("dst");
  ASSERT_TRUE(mount_all({Mount{"tmpfs", "t1", "", {}}}, dst).has_value());
  ASSERT_TRUE(mount_all({Mount{"tmpfs", "t2", "", {}}}, dst).has_value());
  ASSERT_TRUE(make_dirs(dst + "/nested").has_value());
  ASSERT_TRUE(mount_all({Mount{"tmpfs", "t3", "", {}}}, dst + "/nested").has_value());
  EXPECT_EQ(mounts_at(dst), 3u);
  auto s = unmount_all(dst);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(mounts_at(dst), 0u);
}

TEST_F(MountTest, UnmountAllOfAMissingPathIsFine) {
  EXPECT_TRUE(unmount_all(tmp_.sub("never-created")).has_value());
  EXPECT_TRUE(unmount_all(dir("empty")).has_value());
}

TEST_F(MountTest, ScopedMountsUnmountsWhenDestroyed) {
  std::string dst = dir("dst");
  {
    auto m = ScopedMounts::mount({Mount{"tmpfs", "tmpfs", "", {}}}, dst);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(mounts_at(dst), 1u);
    ScopedMounts moved = std::move(*m);
    EXPECT_FALSE(m->active());
    EXPECT_TRUE(moved.active());
  }
  EXPECT_EQ(mounts_at(dst), 0u);
}

TEST_F(MountTest, PropagationOptions) {
  std::string dst = dir("dst");
  auto m = ScopedMounts::mount({Mount{"tmpfs", "tmpfs", "", {"rprivate"}}}, dst);
  ASSERT_TRUE(m.has_value()) << m.error().message;
}

TEST(MountDescribe, ShortensLongOptionLists) {
  Mount m{"overlay", "overlay", "", {}};
  for (int i = 0; i < 200; ++i)
    m.options.push_back("lowerdir=/some/long/path/" + std::to_string(i));
  std::string d = describe(m);
  EXPECT_LT(d.size(), 400u);
  EXPECT_EQ(d.rfind("overlay overlay on / (", 0), 0u) << d;
  EXPECT_NE(d.find("200 options"), std::string::npos) << d;
  EXPECT_EQ(describe(Mount{"bind", "/a", "rootfs", {"rbind", "ro"}}),
            "bind /a on rootfs (rbind,ro)");
}

}  // namespace
}  // namespace berth::sdk
