// The SDK's filesystem layer (berth/sdk/fs.hpp): removal that stops at mount points, the atomic
// writer, readlink. The mount cases need root (they mount a tmpfs in their own temp dir) and are
// skipped without it.
#include "berth/sdk/fs.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace berth::sdk::fs {
namespace {

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-sdk-fs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  // A tmpfs on dir_/<rel> holding one file; false (test skipped) without root.
  void mount_tmpfs(const std::string& path) {
    std::filesystem::create_directories(path);
    ASSERT_EQ(::mount("tmpfs", path.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
    mounts_.push_back(path);
    write(path + "/precious", "keep me");
  }
  std::string dir_;
  std::vector<std::string> mounts_;
};

TEST_F(FsTest, RemoveTreeRemovesEverythingAndAMissingPathIsFine) {
  std::filesystem::create_directories(dir_ + "/t/a/b");
  write(dir_ + "/t/a/b/f", "x");
  write(dir_ + "/t/g", "y");
  ASSERT_EQ(::chmod((dir_ + "/t/a/b").c_str(), 0), 0) << "an unreadable dir is no obstacle to root";
  if (::geteuid() != 0) {
    ASSERT_EQ(::chmod((dir_ + "/t/a/b").c_str(), 0755), 0);
  }
  ASSERT_TRUE(remove_tree(dir_ + "/t")) << remove_tree(dir_ + "/t").error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/t"));
  EXPECT_TRUE(remove_tree(dir_ + "/never-was"));
  write(dir_ + "/plain", "z");
  EXPECT_TRUE(remove_tree(dir_ + "/plain"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/plain"));
}

TEST_F(FsTest, RemoveTreeNeverFollowsSymlinks) {
  std::filesystem::create_directories(dir_ + "/outside");
  write(dir_ + "/outside/keep", "k");
  std::filesystem::create_directories(dir_ + "/t");
  std::filesystem::create_directory_symlink(dir_ + "/outside", dir_ + "/t/link");
  ASSERT_TRUE(remove_tree(dir_ + "/t"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/outside/keep"));
  // A symlink given as the path itself is removed, not its target.
  std::filesystem::create_directory_symlink(dir_ + "/outside", dir_ + "/top-link");
  ASSERT_TRUE(remove_tree(dir_ + "/top-link"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/outside/keep"));
}

TEST_F(FsTest, RemoveTreeStopsAtAMountPoint) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  std::filesystem::create_directories(dir_ + "/t/a");
  write(dir_ + "/t/a/file", "x");
  mount_tmpfs(dir_ + "/t/a/mnt");
  auto st = remove_tree(dir_ + "/t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.error().message.find(dir_ + "/t/a/mnt"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("mount point"), std::string::npos) << st.error().message;
  std::ifstream kept(dir_ + "/t/a/mnt/precious");
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "keep me") << "what is mounted below must not be emptied";
}

TEST_F(FsTest, RemoveTreeStopsAtABindMountOfTheSameFilesystem) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to bind mount";
  // A bind mount keeps st_dev: only the mount id tells it from a plain directory.
  std::filesystem::create_directories(dir_ + "/volume");
  write(dir_ + "/volume/precious", "keep me");
  std::filesystem::create_directories(dir_ + "/t/rootfs/data");
  ASSERT_EQ(::mount((dir_ + "/volume").c_str(), (dir_ + "/t/rootfs/data").c_str(), nullptr,
                    MS_BIND, nullptr), 0);
  mounts_.push_back(dir_ + "/t/rootfs/data");
  auto st = remove_tree(dir_ + "/t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/volume/precious"));
}

TEST_F(FsTest, RemoveTreeAtWorksThroughAnOPathDirectoryFd) {
  std::filesystem::create_directories(dir_ + "/t/x");
  write(dir_ + "/t/x/f", "x");
  int fd = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(remove_tree_at(fd, "t"));
  EXPECT_TRUE(remove_tree_at(fd, "missing"));
  ::close(fd);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/t"));
}

TEST_F(FsTest, AtomicWriteReplacesWithTheModeAndLeavesNoTempFile) {
  const std::string path = dir_ + "/state.json";
  ASSERT_TRUE(atomic_write(path, "one"));
  ASSERT_TRUE(atomic_write(path, "two", 0600, Durability::kVolatile));
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "two");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    ++entries;
    EXPECT_FALSE(is_atomic_write_leftover(e.path().filename().string())) << e.path();
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(FsTest, AtomicWriteNeverShowsAPartialFile) {
  // A reader racing a writer that alternates two large contents sees one of them, whole.
  const std::string path = dir_ + "/big";
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  ASSERT_TRUE(atomic_write(path, a, 0644, Durability::kVolatile));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 50 && !stop; ++i) {
      (void)atomic_write(path, i % 2 == 0 ? b : a, 0644, Durability::kVolatile);
    }
    stop = true;
  });
  int reads = 0;
  while (!stop) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(text == a || text == b) << "torn read of " << text.size() << " bytes";
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
}

TEST_F(FsTest, AtomicWriteErrorsCarryErrno) {
  auto st = atomic_write(dir_ + "/no-such-dir/f", "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
  EXPECT_NE(st.error().message.find(dir_ + "/no-such-dir/f"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("no such file or directory"), std::string::npos)
      << st.error().message;
  // Renaming over a directory fails after the temp file was written: no temp file is left.
  std::filesystem::create_directories(dir_ + "/adir/inside");
  auto over_dir = atomic_write(dir_ + "/adir", "x");
  ASSERT_FALSE(over_dir);
  EXPECT_NE(over_dir.error().message.find("rename"), std::string::npos) << over_dir.error().message;
  EXPECT_NE(over_dir.error().message.find("is a directory"), std::string::npos)
      << over_dir.error().message;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_FALSE(is_atomic_write_leftover(e.path().filename().string())) << e.path();
  }
}

TEST(AtomicWriteLeftover, RecognisesOnlyItsOwnTempNames) {
  EXPECT_TRUE(is_atomic_write_leftover(".12.json.tmp-a1B2c3"));
  EXPECT_FALSE(is_atomic_write_leftover("12.json"));
  EXPECT_FALSE(is_atomic_write_leftover(".hidden"));
  EXPECT_FALSE(is_atomic_write_leftover("x.tmp-abcdef")) << "not a dot file";
}

TEST_F(FsTest, ReadLinkReturnsLongTargetsWhole) {
  const std::string target(1000, 'x');
  ASSERT_EQ(::symlink(target.c_str(), (dir_ + "/l").c_str()), 0);
  auto got = read_link(dir_ + "/l");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, target);
  int fd = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  auto at = read_link_at(fd, "l");
  ::close(fd);
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, target);
  write(dir_ + "/f", "x");
  auto not_link = read_link(dir_ + "/f");
  ASSERT_FALSE(not_link);
  EXPECT_EQ(not_link.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::sdk::fs
