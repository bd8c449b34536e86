// Hostile layers: every way out of the layer root must be refused, stop the apply, and leave
// everything outside the root untouched.
#include <gtest/gtest.h>

#include <string>

#include "core/layer/applier.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::layer {
namespace {

using namespace testing;  // NOLINT

class ApplierSecurityTest : public ::testing::TestWithParam<WhiteoutMode> {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    outside_ = dir_ / "outside";
    stdfs::create_directories(root_);
    write_file(outside_ / "canary.txt", "canary");
    stdfs::create_directories(outside_ / "victim-dir");
    write_file(outside_ / "victim-dir" / "keep", "keep");
  }

  Result<ApplyResult> apply(const std::string& tar) {
    StringReader in(tar);
    ApplyOptions options;
    options.whiteouts = GetParam();
    options.preserve_owner = is_root();
    return apply_tar(root_, in, options);
  }

  void expect_refused(const std::string& tar, const std::string& what) {
    auto result = apply(tar);
    ASSERT_FALSE(result) << what << " was applied";
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << result.error().message;
    EXPECT_NE(result.error().message.find("escapes the layer root"), std::string::npos)
        << result.error().message;
    expect_outside_untouched();
  }

  // Nothing appeared beside the root, and the canary tree is exactly as it was.
  void expect_outside_untouched() {
    std::vector<std::string> top;
    for (const auto& e : stdfs::directory_iterator(dir_.path())) {
      top.push_back(e.path().filename().string());
    }
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, (std::vector<std::string>{"outside", "root"}));
    std::vector<std::string> inside;
    for (const auto& e : stdfs::recursive_directory_iterator(outside_)) {
      inside.push_back(stdfs::relative(e.path(), outside_).string());
    }
    std::sort(inside.begin(), inside.end());
    EXPECT_EQ(inside, (std::vector<std::string>{"canary.txt", "victim-dir", "victim-dir/keep"}));
    EXPECT_EQ(read_file(outside_ / "canary.txt"), "canary");
    EXPECT_EQ(read_file(outside_ / "victim-dir" / "keep"), "keep");
    EXPECT_EQ(lstat_of(outside_ / "canary.txt").st_nlink, 1u) << "a hard link was made to it";
  }

  TempDir dir_;
  stdfs::path root_;
  stdfs::path outside_;
};

TEST_P(ApplierSecurityTest, DotDotClimbingOut) {
  expect_refused(TarBuilder().file("../evil", "x").finish(), "../evil");
  expect_refused(TarBuilder().file("a/../../evil", "x").finish(), "a/../../evil");
  expect_refused(TarBuilder().file("./../outside/canary.txt", "pwned").finish(), "./../");
  expect_refused(TarBuilder().file("/../evil", "x").finish(), "/../evil");
  expect_refused(TarBuilder().dir("a/b/../../../evil/").finish(), "dir climbing out");
  expect_refused(TarBuilder().symlink("../evil-link", "/etc").finish(), "symlink named ..");
  expect_refused(TarBuilder().file("../outside/.wh.canary.txt", "").finish(), "whiteout ..");
  expect_refused(TarBuilder().file("../outside/.wh..wh..opq", "").finish(), "opaque ..");
}

TEST_P(ApplierSecurityTest, DotDotThatStaysInsideIsNormalised) {
  auto result = apply(TarBuilder().dir("a/").file("a/b/../c", "in").finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "a" / "c"), "in");
  expect_outside_untouched();
}

TEST_P(ApplierSecurityTest, HardLinkTargetsOutside) {
  expect_refused(TarBuilder().hardlink("h", "../outside/canary.txt").finish(), "hardlink ..");
  expect_refused(TarBuilder().hardlink("h", (outside_ / "canary.txt").string()).finish(),
                 "hardlink absolute");
  expect_refused(TarBuilder().hardlink("h", "/etc/passwd").finish(), "hardlink /etc/passwd");
  expect_refused(TarBuilder().hardlink("h", "a/../../outside/canary.txt").finish(),
                 "hardlink a/../..");
  EXPECT_FALSE(exists_nofollow(root_ / "h"));
}

TEST_P(ApplierSecurityTest, HardLinkThroughSymlinkedParent) {
  expect_refused(
      TarBuilder().symlink("link", "../outside").hardlink("h", "link/canary.txt").finish(),
      "hardlink through relative symlink");
  stdfs::remove_all(root_);
  stdfs::create_directories(root_);
  expect_refused(
      TarBuilder().symlink("abs", outside_.string()).hardlink("h", "abs/canary.txt").finish(),
      "hardlink through absolute symlink");
}

TEST_P(ApplierSecurityTest, SymlinkToAbsoluteDirThenWriteThrough) {
  expect_refused(TarBuilder().symlink("link", "/etc").file("link/passwd", "pwned").finish(),
                 "link -> /etc then link/passwd");
  stdfs::remove_all(root_);
  stdfs::create_directories(root_);
  expect_refused(
      TarBuilder().symlink("link", outside_.string()).file("link/canary.txt", "pwned").finish(),
      "link -> outside then link/canary.txt");
}

TEST_P(ApplierSecurityTest, SymlinkClimbingOutThenWriteThrough) {
  expect_refused(TarBuilder().symlink("link", "../..").file("link/x", "pwned").finish(),
                 "link -> ../.. then link/x");
  stdfs::remove_all(root_);
  stdfs::create_directories(root_);
  expect_refused(
      TarBuilder().dir("d/").symlink("d/up", "../../outside").file("d/up/new", "pwned").finish(),
      "nested relative symlink");
  stdfs::remove_all(root_);
  stdfs::create_directories(root_);
  // The parent is a symlink chain whose second hop leaves the root.
  expect_refused(TarBuilder()
                     .symlink("hop1", "hop2")
                     .symlink("hop2", "../outside")
                     .dir("hop1/victim-dir/")
                     .finish(),
                 "symlink chain");
}

TEST_P(ApplierSecurityTest, SymlinkPlantedByAnEarlierLayer) {
  stdfs::create_directory_symlink("../outside", root_ / "planted");
  stdfs::create_directory_symlink(outside_, root_ / "planted-abs");
  expect_refused(TarBuilder().file("planted/canary.txt", "pwned").finish(), "relative planted");
  expect_refused(TarBuilder().file("planted-abs/new", "pwned").finish(), "absolute planted");
  expect_refused(TarBuilder().dir("planted/sub/").finish(), "mkdir through planted");
  expect_refused(TarBuilder().file("planted/.wh.canary.txt", "").finish(),
                 "whiteout through planted");
  expect_refused(TarBuilder().file("planted/.wh.victim-dir", "").finish(),
                 "whiteout of a dir through planted");
  expect_refused(TarBuilder().file("planted/.wh..wh..opq", "").finish(), "opaque through planted");
  expect_refused(TarBuilder().file("planted/victim-dir/deeper/f", "pwned").finish(),
                 "missing parents under planted");
  expect_refused(TarBuilder().symlink("planted/s", "/").finish(), "symlink under planted");
  // The planted links themselves are still there and still point where they did.
  EXPECT_EQ(stdfs::read_symlink(root_ / "planted"), "../outside");
}

TEST_P(ApplierSecurityTest, FinalComponentSymlinkIsReplacedNotFollowed) {
  stdfs::create_symlink(outside_ / "canary.txt", root_ / "victim");
  stdfs::create_directory_symlink(outside_ / "victim-dir", root_ / "victim-dir");
  auto result =
      apply(TarBuilder().file("victim", "replaced").dir("victim-dir/", {.mode = 0700}).finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(S_ISREG(lstat_of(root_ / "victim").st_mode));
  EXPECT_EQ(read_file(root_ / "victim"), "replaced");
  EXPECT_TRUE(S_ISDIR(lstat_of(root_ / "victim-dir").st_mode));
  EXPECT_EQ(lstat_of(outside_ / "victim-dir").st_mode & 07777, 0755u) << "chmod went through";
  expect_outside_untouched();
}

TEST_P(ApplierSecurityTest, WhiteoutOfASymlinkRemovesTheLinkOnly) {
  if (GetParam() == WhiteoutMode::kOverlay) BERTH_REQUIRE_ROOT("overlay whiteouts need mknod");
  stdfs::create_directory_symlink(outside_ / "victim-dir", root_ / "victim-dir");
  auto result = apply(TarBuilder().file(".wh.victim-dir", "").finish());
  ASSERT_TRUE(result) << result.error().message;
  if (GetParam() == WhiteoutMode::kApply) {
    EXPECT_FALSE(exists_nofollow(root_ / "victim-dir"));
  } else {
    EXPECT_TRUE(S_ISCHR(lstat_of(root_ / "victim-dir").st_mode)) << "an overlay whiteout";
  }
  expect_outside_untouched();
}

TEST_P(ApplierSecurityTest, HardLinkToASymlinkLinksTheSymlinkItself) {
  stdfs::create_symlink(outside_ / "canary.txt", root_ / "s");
  auto result = apply(TarBuilder().hardlink("h", "s").file("h", "overwrite").finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(S_ISLNK(lstat_of(root_ / "s").st_mode));
  EXPECT_EQ(read_file(root_ / "h"), "overwrite");
  expect_outside_untouched();
}

TEST_P(ApplierSecurityTest, SymlinkEntriesMayPointAnywhere) {
  auto result = apply(TarBuilder()
                          .symlink("abs", "/etc/passwd")
                          .symlink("rel", "../../../../outside")
                          .symlink("dot", ".")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(stdfs::read_symlink(root_ / "abs"), "/etc/passwd");
  EXPECT_EQ(stdfs::read_symlink(root_ / "rel"), "../../../../outside");
  expect_outside_untouched();
}

TEST_P(ApplierSecurityTest, RelativeSymlinkInsideTheRootIsFollowed) {
  // Merged-/usr images: "lib -> usr/lib" and later layers writing "lib/...".
  auto result = apply(
      TarBuilder().dir("usr/lib/").symlink("lib", "usr/lib").file("lib/libc.so", "elf").finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "usr" / "lib" / "libc.so"), "elf");
  expect_outside_untouched();
}

TEST_P(ApplierSecurityTest, ApplyStopsAtTheFirstRefusedEntry) {
  auto result =
      apply(TarBuilder().file("before", "1").file("../evil", "x").file("after", "2").finish());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "apply layer: entry \"../evil\" escapes the layer root");
  EXPECT_TRUE(exists_nofollow(root_ / "before"));
  EXPECT_FALSE(exists_nofollow(root_ / "after"));
  expect_outside_untouched();
}

TEST_P(ApplierSecurityTest, DevicesCannotBeUsedToEscape) {
  BERTH_REQUIRE_ROOT("mknod");
  expect_refused(TarBuilder().device("../evil-dev", AE_IFCHR, 1, 3).finish(), "device ..");
  expect_refused(TarBuilder().symlink("l", "/").device("l/dev-null", AE_IFCHR, 1, 3).finish(),
                 "device through symlink");
}

// docker cp semantics: parent symlinks resolve as in the container, never outside the root.
TEST_P(ApplierSecurityTest, ResolveInRootFollowsSymlinksInsideTheRoot) {
  const std::string tar = TarBuilder()
                              .dir("etc/")
                              .symlink("link", "/etc")
                              .file("link/passwd", "in the container")
                              .file("slash/etc/via-slash", "planted link to /")
                              .symlink("up", "../../../..")
                              .file("up/at-root", "clamped")
                              .symlink("out", outside_.string())
                              .dir("out/")
                              .finish();
  stdfs::create_directory_symlink("/", root_ / "slash");
  StringReader in(tar);
  ApplyOptions options;
  options.whiteouts = GetParam();
  options.resolve_in_root = true;
  options.preserve_owner = is_root();
  auto result = apply_tar(root_, in, options);
  // "out/" re-creates the link's own name as a directory (the entry replaces the symlink).
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "etc" / "passwd"), "in the container");
  EXPECT_EQ(read_file(root_ / "at-root"), "clamped");
  EXPECT_EQ(read_file(root_ / "etc" / "via-slash"), "planted link to /");
  EXPECT_TRUE(S_ISDIR(lstat_of(root_ / "out").st_mode));
  expect_outside_untouched();

  // Absolute hard link targets stay refused in this mode too.
  const std::string hostile = TarBuilder().hardlink("h", "/etc/passwd").finish();
  StringReader in2(hostile);
  auto refused = apply_tar(root_, in2, options);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  expect_outside_untouched();
}

INSTANTIATE_TEST_SUITE_P(Modes, ApplierSecurityTest,
                         ::testing::Values(WhiteoutMode::kApply, WhiteoutMode::kOverlay),
                         [](const auto& info) {
                           return info.param == WhiteoutMode::kApply ? "Apply" : "Overlay";
                         });

}  // namespace
}  // namespace berth::core::layer
