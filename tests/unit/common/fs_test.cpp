#include "core/common/fs.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto p = fs::temp_directory_path() / ("berth-fs-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(Fs, AtomicWriteReplacesAndLeavesNoTemp) {
  auto dir = temp_dir("atomic");
  ASSERT_TRUE(berth::fs::atomic_write(dir / "f", "one"));
  ASSERT_TRUE(berth::fs::atomic_write(dir / "f", "two", 0600));
  EXPECT_EQ(*berth::fs::read_file(dir / "f"), "two");
  EXPECT_EQ(fs::status(dir / "f").permissions() & fs::perms::all, fs::perms(0600));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  fs::remove_all(dir);
}

TEST(Fs, WriteIfChangedKeepsTheFileWhenNothingChanged) {
  auto dir = temp_dir("if-changed");
  auto inode = [&]() -> ino_t {
    struct stat st {};
    return ::stat((dir / "f").c_str(), &st) == 0 ? st.st_ino : 0;
  };
  ASSERT_TRUE(berth::fs::write_if_changed(dir / "f", "same\n"));
  const auto first = inode();
  ASSERT_NE(first, 0u);
  ASSERT_TRUE(berth::fs::write_if_changed(dir / "f", "same\n"));
  EXPECT_EQ(inode(), first);  // not rewritten
  ASSERT_TRUE(berth::fs::write_if_changed(dir / "f", "same\n", 0600));
  EXPECT_NE(inode(), first);  // another mode is a change
  EXPECT_EQ(fs::status(dir / "f").permissions() & fs::perms::all, fs::perms(0600));
  const auto second = inode();
  ASSERT_TRUE(berth::fs::write_if_changed(dir / "f", "other\n", 0600));
  EXPECT_NE(inode(), second);
  EXPECT_EQ(*berth::fs::read_file(dir / "f"), "other\n");
  fs::remove_all(dir);
}

TEST(Fs, RemoveAllDoesNotFollowSymlinks) {
  auto dir = temp_dir("symlink");
  auto outside = temp_dir("symlink-outside");
  std::ofstream(outside / "keep") << "x";
  fs::create_directories(dir / "a/b");
  fs::create_directory_symlink(outside, dir / "a/link");
  ASSERT_TRUE(berth::fs::remove_all(dir));
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(fs::exists(outside / "keep"));
  EXPECT_TRUE(berth::fs::remove_all(dir));  // missing is fine
  fs::remove_all(outside);
}

TEST(Fs, RemoveAllStopsAtMountPoints) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  auto dir = temp_dir("mount");
  fs::create_directories(dir / "sub/mnt");
  ASSERT_EQ(::mount("tmpfs", (dir / "sub/mnt").c_str(), "tmpfs", 0, "size=1m"), 0);
  std::ofstream(dir / "sub/mnt/precious") << "data";
  auto s = berth::fs::remove_all(dir);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, berth::ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.error().message.find("is a mount point"), std::string::npos) << s.error().message;
  EXPECT_TRUE(fs::exists(dir / "sub/mnt/precious"));
  ::umount2((dir / "sub/mnt").c_str(), MNT_DETACH);
  EXPECT_TRUE(berth::fs::remove_all(dir));
}

TEST(Fs, EnsureDirCreatesParents) {
  auto dir = temp_dir("ensure");
  ASSERT_TRUE(berth::fs::ensure_dir(dir / "a/b/c", 0700));
  EXPECT_TRUE(fs::is_directory(dir / "a/b/c"));
  std::ofstream(dir / "file") << "x";
  auto s = berth::fs::ensure_dir(dir / "file");
  EXPECT_FALSE(s);
  fs::remove_all(dir);
}

}  // namespace
