// Change detection (docker diff) and change tars (docker commit).
#include "core/layer/changes.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "core/layer/applier.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::layer {

void PrintTo(const Change& c, std::ostream* os) {
  *os << change_kind_letter(c.kind) << " " << c.path;
}

namespace {

using namespace testing;  // NOLINT

constexpr auto C = Change::kModified;
constexpr auto A = Change::kAdded;
constexpr auto D = Change::kDeleted;

void set_mtime(const stdfs::path& p, int64_t sec) {
  struct timespec ts[2] = {{sec, 0}, {sec, 0}};
  ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

std::vector<std::string> tar_names(const std::string& tar) {
  std::vector<std::string> out;
  for (const auto& m : read_tar(tar)) out.push_back(m.name);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Applies `tar` to a copy of `base` and checks the result is `expected` (directory times aside:
// a change tar does not carry every directory).
void expect_tar_reproduces(const TempDir& dir, const stdfs::path& base, const std::string& tar,
                           const Tree& expected) {
  auto copy = dir / "reproduced";
  run("cp -a " + base.string() + " " + copy.string());
  StringReader in(tar);
  ApplyOptions options;
  options.preserve_owner = is_root();
  auto applied = apply_tar(copy, in, options);
  ASSERT_TRUE(applied) << applied.error().message;
  expect_same_tree(expected, snapshot(copy));
}

TEST(ChangesTest, KindLettersAndNumbers) {
  EXPECT_EQ(change_kind_letter(C), "C");
  EXPECT_EQ(change_kind_letter(A), "A");
  EXPECT_EQ(change_kind_letter(D), "D");
  EXPECT_EQ(static_cast<int>(C), 0);
  EXPECT_EQ(static_cast<int>(A), 1);
  EXPECT_EQ(static_cast<int>(D), 2);
}

class TreeChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = dir_ / "base";
    write_file(base_ / "etc" / "hostname", "a");
    write_file(base_ / "etc" / "passwd", "root");
    write_file(base_ / "gone" / "file", "f");
    write_file(base_ / "gone" / "sub" / "x", "x");
    write_file(base_ / "keep" / "same", "s");
    write_file(base_ / "mod" / "content", "1");
    write_file(base_ / "mod" / "perm", "p");
    write_file(base_ / "type" / "file-to-dir", "x");
    write_file(base_ / "xattr" / "f", "x");
    write_file(base_ / "untouched" / "dir" / "f", "u");
    stdfs::create_symlink("aaa", base_ / "link");
    set_mtime(base_ / "link", 1600000000);
    changed_ = dir_ / "changed";
    run("cp -a " + base_.string() + " " + changed_.string());

    write_file(changed_ / "etc" / "new", "n");
    stdfs::remove(changed_ / "etc" / "passwd");
    stdfs::remove_all(changed_ / "gone");
    write_file(changed_ / "mod" / "content", "22");
    stdfs::permissions(changed_ / "mod" / "perm", stdfs::perms(0600));
    stdfs::remove(changed_ / "link");
    stdfs::create_symlink("bbb", changed_ / "link");
    set_mtime(changed_ / "link", 1600000000);  // only the target tells them apart
    stdfs::remove(changed_ / "type" / "file-to-dir");
    write_file(changed_ / "type" / "file-to-dir" / "c", "c");
    ::setxattr((changed_ / "xattr" / "f").c_str(), "user.k", "v", 1, 0);
    write_file(changed_ / "newdir" / "sub" / "f", "f");
  }

  TempDir dir_;
  stdfs::path base_;
  stdfs::path changed_;
};

TEST_F(TreeChangesTest, ReportsEveryKindSortedByPath) {
  auto changes = tree_changes(base_, changed_);
  ASSERT_TRUE(changes) << changes.error().message;
  std::vector<Change> expected = {
      {"/etc", C},
      {"/etc/new", A},
      {"/etc/passwd", D},
      {"/gone", D},
      {"/link", C},
      {"/mod", C},
      {"/mod/content", C},
      {"/mod/perm", C},
      {"/newdir", A},
      {"/newdir/sub", A},
      {"/newdir/sub/f", A},
      {"/type", C},
      {"/type/file-to-dir", C},
      {"/type/file-to-dir/c", A},
      {"/xattr", C},
      {"/xattr/f", C},
  };
  EXPECT_EQ(*changes, expected);
}

TEST_F(TreeChangesTest, OwnershipChangesAreSeen) {
  BERTH_REQUIRE_ROOT("chown to another user");
  ASSERT_EQ(::lchown((changed_ / "keep" / "same").c_str(), 1234, 1234), 0);
  auto changes = tree_changes(base_, changed_);
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_NE(std::find(changes->begin(), changes->end(), Change{"/keep/same", C}), changes->end());
  EXPECT_NE(std::find(changes->begin(), changes->end(), Change{"/keep", C}), changes->end());
}

TEST_F(TreeChangesTest, IdenticalTreesHaveNoChanges) {
  auto changes = tree_changes(base_, base_);
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_TRUE(changes->empty());
}

TEST_F(TreeChangesTest, ChangesTarReproducesTheChangedTree) {
  auto changes = tree_changes(base_, changed_);
  ASSERT_TRUE(changes) << changes.error().message;
  StringWriter out;
  auto st = write_changes_tar(changed_, *changes, out);
  ASSERT_TRUE(st) << st.error().message;
  auto names = tar_names(out.str());
  EXPECT_TRUE(contains(names, ".wh.gone"));
  EXPECT_TRUE(contains(names, "etc/.wh.passwd"));
  EXPECT_TRUE(contains(names, "etc/"));
  EXPECT_TRUE(contains(names, "etc/new"));
  EXPECT_TRUE(contains(names, "newdir/sub/f"));
  EXPECT_FALSE(contains(names, "keep/")) << "unchanged directories stay out";
  EXPECT_FALSE(contains(names, "untouched/"));
  EXPECT_FALSE(contains(names, "etc/hostname"));
  // Each entry once, parents before children.
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
  EXPECT_LT(std::find(names.begin(), names.end(), "newdir/"),
            std::find(names.begin(), names.end(), "newdir/sub/"));
  expect_tar_reproduces(dir_, base_, out.str(), snapshot(changed_));
}

TEST_F(TreeChangesTest, ChangesTarIncludesMissingParents) {
  // A change list naming only a deep file still yields a tar that applies on its own.
  StringWriter out;
  auto st = write_changes_tar(changed_, {{"/newdir/sub/f", A}}, out);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(tar_names(out.str()),
            (std::vector<std::string>{"newdir/", "newdir/sub/", "newdir/sub/f"}));
}

TEST_F(TreeChangesTest, ChangesTarRefusesPathsOutsideTheRoot) {
  StringWriter out;
  auto st = write_changes_tar(changed_, {{"/../base/etc/passwd", A}}, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  stdfs::create_directory_symlink(base_, changed_ / "escape");
  auto through = write_changes_tar(changed_, {{"/escape/etc/passwd", A}}, out);
  ASSERT_FALSE(through);
  EXPECT_EQ(out.str().find("root"), std::string::npos);
}

// ---- overlay upperdirs --------------------------------------------------------------------------

TEST(OverlayChangesTest, HandMadeUpperWithoutWhiteouts) {
  TempDir dir;
  write_file(dir / "lower" / "etc" / "hosts", "h");
  write_file(dir / "lower" / "bin" / "sh", "sh");
  write_file(dir / "upper" / "etc" / "new", "n");
  write_file(dir / "upper" / "bin" / "sh", "patched");
  write_file(dir / "upper" / "opt" / "app", "a");
  auto changes = overlay_changes(dir / "upper", {dir / "lower"});
  ASSERT_TRUE(changes) << changes.error().message;
  std::vector<Change> expected = {{"/bin", C},     {"/bin/sh", C}, {"/etc", C},
                                  {"/etc/new", A}, {"/opt", A},    {"/opt/app", A}};
  EXPECT_EQ(*changes, expected);
}

TEST(OverlayChangesTest, LowerStackWhiteoutsAndOpaqueDirs) {
  BERTH_REQUIRE_ROOT("overlay whiteouts (mknod 0:0) and trusted.overlay.opaque in the lowers");
  TempDir dir;
  auto l1 = dir / "l1";  // bottom
  auto l2 = dir / "l2";  // top lower: deletes "a", makes "d" opaque
  auto upper = dir / "upper";
  write_file(l1 / "a", "a");
  write_file(l1 / "d" / "x", "x");
  write_file(l1 / "d" / "hidden", "h");
  write_file(l1 / "kept", "k");
  stdfs::create_directories(l2 / "d");
  ASSERT_EQ(::mknod((l2 / "a").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((l2 / "d").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  write_file(upper / "a", "again");
  write_file(upper / "d" / "x", "new x");
  write_file(upper / "kept", "changed");
  auto changes = overlay_changes(upper, {l2, l1});
  ASSERT_TRUE(changes) << changes.error().message;
  // "a" was deleted by l2, so it is added again; l1's "d/x" is hidden by l2's opaque "d".
  std::vector<Change> expected = {{"/a", A}, {"/d", C}, {"/d/x", A}, {"/kept", C}};
  EXPECT_EQ(*changes, expected);
}

TEST(OverlayChangesTest, RealOverlayMount) {
  BERTH_REQUIRE_ROOT("mounting overlayfs");
  TempDir dir;
  auto lower = dir / "lower";
  auto upper = dir / "upper";
  auto work = dir / "work";
  auto merged = dir / "merged";
  write_file(lower / "etc" / "hosts", "127.0.0.1 localhost\n");
  write_file(lower / "etc" / "passwd", "root:x:0:0\n");
  write_file(lower / "keep" / "x", "x");
  write_file(lower / "gone" / "file", "f");
  write_file(lower / "gone" / "sub" / "y", "y");
  write_file(lower / "opq" / "old1", "1");
  write_file(lower / "opq" / "sub" / "old2", "2");
  write_file(lower / "mod.txt", "v1");
  write_file(lower / "same" / "z", "z");
  for (const auto& p : {upper, work, merged}) stdfs::create_directories(p);
  std::string opts =
      "lowerdir=" + lower.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
  ASSERT_EQ(::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()), 0)
      << std::strerror(errno);
  struct Unmount {
    stdfs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{merged};

  std::ofstream(merged / "mod.txt", std::ios::app) << "v2";
  write_file(merged / "etc" / "new", "n");
  stdfs::remove(merged / "etc" / "passwd");
  stdfs::remove_all(merged / "gone");
  stdfs::remove_all(merged / "opq");
  write_file(merged / "opq" / "sub" / "new", "new");
  write_file(merged / "opq" / "fresh", "fresh");
  write_file(merged / "newdir" / "f", "f");
  stdfs::permissions(merged / "keep" / "x", stdfs::perms(0600));
  stdfs::create_symlink("/etc/hosts", merged / "link");
  Tree expected = snapshot(merged);
  ASSERT_EQ(::umount2(merged.c_str(), 0), 0) << std::strerror(errno);
  unmount.p.clear();

  EXPECT_EQ(get_xattr(upper / "opq", "trusted.overlay.opaque"), "y") << "kernel made it opaque";
  auto changes = overlay_changes(upper, {lower});
  ASSERT_TRUE(changes) << changes.error().message;
  std::vector<Change> want = {
      {"/etc", C},      {"/etc/new", A},     {"/etc/passwd", D},   {"/gone", D},
      {"/keep/x", C},   {"/link", A},        {"/mod.txt", C},      {"/newdir", A},
      {"/newdir/f", A}, {"/opq", C},         {"/opq/fresh", A},    {"/opq/old1", D},
      {"/opq/sub", C},  {"/opq/sub/new", A}, {"/opq/sub/old2", D},
  };
  // Whether "/keep" shows depends on whether the kernel kept its times on copy-up.
  std::vector<Change> got = *changes;
  std::erase(got, Change{"/keep", C});
  EXPECT_EQ(got, want);

  // The tar of those changes, applied on the lower, gives what the container saw.
  StringWriter out;
  auto st = write_changes_tar(upper, *changes, out);
  ASSERT_TRUE(st) << st.error().message;
  auto names = tar_names(out.str());
  EXPECT_TRUE(contains(names, "opq/.wh.old1"));
  EXPECT_TRUE(contains(names, "opq/sub/.wh.old2"));
  for (const auto& m : read_tar(out.str())) {
    for (const auto& [k, v] : m.xattrs) {
      EXPECT_NE(k.rfind("trusted.overlay.", 0), 0u) << m.name << " carries " << k;
    }
  }
  expect_tar_reproduces(dir, lower, out.str(), expected);
}

}  // namespace
}  // namespace berth::core::layer
