#include "core/layer/safe_path.hpp"

#include <gtest/gtest.h>

#include <string>

#include "berth/sdk/fs.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::layer {
namespace {

using namespace testing;  // NOLINT

TEST(CleanPathTest, Normalises) {
  struct Case {
    std::string in;
    PathParts out;
  };
  for (const auto& c : std::vector<Case>{
           {"a/b", {"a", "b"}},
           {"./a/b/", {"a", "b"}},
           {"/a//b", {"a", "b"}},
           {"a/./b/.", {"a", "b"}},
           {"a/b/../c", {"a", "c"}},
           {"a/..", {}},
           {".", {}},
           {"./", {}},
           {"/", {}},
           {"", {}},
           {"..a/b..", {"..a", "b.."}},
           {".wh..wh..opq", {".wh..wh..opq"}},
       }) {
    auto parts = clean_path(c.in);
    ASSERT_TRUE(parts) << c.in;
    EXPECT_EQ(*parts, c.out) << c.in;
  }
  for (const std::string bad :
       {"..", "../x", "a/../..", "a/../../b", "/..", "./../x", "a/b/../../../c"}) {
    auto parts = clean_path(bad);
    ASSERT_FALSE(parts) << bad;
    EXPECT_EQ(parts.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(join_path({"a", "b", "c"}), "a/b/c");
  EXPECT_EQ(join_path({"a", "b", "c"}, 2), "a/b");
  EXPECT_EQ(join_path({"a"}, 0), "");
}

TEST(SafePathTest, OpenDirStaysBeneathTheRoot) {
  TempDir dir;
  auto root = dir / "root";
  stdfs::create_directories(root / "real" / "sub");
  stdfs::create_directories(dir / "outside");
  stdfs::create_directory_symlink("real", root / "inside-link");
  stdfs::create_directory_symlink("../outside", root / "out-rel");
  stdfs::create_directory_symlink(dir / "outside", root / "out-abs");
  auto root_fd = open_root(root);
  ASSERT_TRUE(root_fd);

  UniqueFd ok(open_dir_fd(root_fd->get(), {"inside-link", "sub"}, 2));
  EXPECT_TRUE(ok) << "relative links inside the root are followed";
  for (const auto& parts : std::vector<PathParts>{{"out-rel"}, {"out-abs"}, {"real", "..", ".."}}) {
    errno = 0;
    UniqueFd fd(open_dir_fd(root_fd->get(), parts, parts.size()));
    EXPECT_FALSE(fd) << join_path(parts);
    EXPECT_TRUE(errno == EXDEV || errno == ELOOP) << join_path(parts) << ": " << errno;
  }
  // In-root resolution (for archives): absolute links are taken relative to the root.
  UniqueFd in_root(
      open_dir_fd(root_fd->get(), {"out-abs"}, 1, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
  EXPECT_FALSE(in_root) << "resolves to <root>" << dir.path() << "/outside, which does not exist";
  EXPECT_EQ(errno, ENOENT);

  auto err = path_error("apply", "out-rel/x", EXDEV);
  EXPECT_EQ(err.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(err.message, "apply \"out-rel/x\": escapes the root");
}

TEST(SafePathTest, RemoveAllNeverFollowsSymlinks) {
  TempDir dir;
  auto root = dir / "root";
  write_file(dir / "outside" / "precious", "keep");
  write_file(root / "victim" / "a" / "b", "b");
  stdfs::create_directory_symlink(dir / "outside", root / "victim" / "link-to-outside");
  stdfs::create_directory_symlink(dir / "outside", root / "top-link");
  auto root_fd = open_root(root);
  ASSERT_TRUE(root_fd);
  ASSERT_TRUE(sdk::fs::remove_tree_at(root_fd->get(), "victim"));
  ASSERT_TRUE(sdk::fs::remove_tree_at(root_fd->get(), "top-link"));
  ASSERT_TRUE(sdk::fs::remove_tree_at(root_fd->get(), "never-existed"));
  EXPECT_FALSE(exists_nofollow(root / "victim"));
  EXPECT_FALSE(exists_nofollow(root / "top-link"));
  EXPECT_EQ(read_file(dir / "outside" / "precious"), "keep");
}

TEST(SafePathTest, ListDirIsSorted) {
  TempDir dir;
  for (const auto* n : {"b", "a", "c.d", "A"}) write_file(dir / n, "");
  auto fd = open_root(dir.path());
  ASSERT_TRUE(fd);
  auto names = list_dir(fd->get());
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"A", "a", "b", "c.d"}));
}

}  // namespace
}  // namespace berth::core::layer
