// Normal layers: entry types, metadata, whiteouts and opaque directories in both modes,
// replacement rules, compression and tars that end early.
#include "core/layer/applier.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/common/sha256.hpp"
#include "core/layer/compression.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::layer {
namespace {

using namespace testing;  // NOLINT

class ApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    stdfs::create_directories(root_);
  }

  Result<ApplyResult> apply(const std::string& tar, ApplyOptions options = {}) {
    options.preserve_owner = options.preserve_owner && is_root();
    StringReader in(tar);
    return apply_tar(root_, in, options);
  }

  Result<ApplyResult> apply_overlay(const std::string& tar) {
    ApplyOptions options;
    options.whiteouts = WhiteoutMode::kOverlay;
    return apply(tar, options);
  }

  TempDir dir_;
  stdfs::path root_;
};

TEST_F(ApplierTest, BasicEntryTypes) {
  const std::string big(200000, 'z');
  auto result = apply(TarBuilder()
                          .dir("etc/")
                          .file("etc/hostname", "berth\n")
                          .file("big.bin", big)
                          .symlink("etc/link", "hostname")
                          .symlink("abs", "/etc/hostname")
                          .fifo("pipe")
                          .file("empty", "")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->entries, 7);
  EXPECT_EQ(result->size, static_cast<int64_t>(6 + big.size()));
  EXPECT_EQ(read_file(root_ / "etc" / "hostname"), "berth\n");
  EXPECT_EQ(read_file(root_ / "big.bin"), big);
  EXPECT_EQ(stdfs::read_symlink(root_ / "etc" / "link"), "hostname");
  EXPECT_EQ(stdfs::read_symlink(root_ / "abs"), "/etc/hostname");
  EXPECT_TRUE(S_ISFIFO(lstat_of(root_ / "pipe").st_mode));
  EXPECT_TRUE(S_ISREG(lstat_of(root_ / "empty").st_mode));
  EXPECT_EQ(lstat_of(root_ / "empty").st_size, 0);
}

TEST_F(ApplierTest, DiffIdIsTheDigestOfTheUncompressedStream) {
  const std::string tar = TarBuilder().dir("d/").file("d/f", std::string(3000, 'x')).finish();
  StringWriter gz;
  GzipWriter writer(gz);
  ASSERT_TRUE(writer.write(tar));
  ASSERT_TRUE(writer.finish());
  auto result = apply(gz.str());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->diff_id, Sha256::of(tar));

  // Bytes after the end-of-archive blocks are part of the stream, hence of the DiffID.
  const std::string padded = tar + std::string(10240 - tar.size() % 10240, '\0');
  auto plain = apply(padded);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->diff_id, Sha256::of(padded));
  EXPECT_EQ(apply("")->diff_id, Sha256::of(""));
}

TEST_F(ApplierTest, NamesAreNormalised) {
  auto result = apply(
      TarBuilder().file("./a/b", "1").file("/c", "2").file("d/./e//f", "3").dir("./").finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "a" / "b"), "1");
  EXPECT_EQ(read_file(root_ / "c"), "2");
  EXPECT_EQ(read_file(root_ / "d" / "e" / "f"), "3");
}

TEST_F(ApplierTest, MissingParentsAreCreated0755) {
  ::umask(077);
  auto result = apply(TarBuilder().file("x/y/z", "deep").finish());
  ::umask(022);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "x" / "y" / "z"), "deep");
  EXPECT_EQ(lstat_of(root_ / "x").st_mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(root_ / "x" / "y").st_mode & 07777, 0755u);
}

TEST_F(ApplierTest, ModesTimesAndOwnership) {
  BERTH_REQUIRE_ROOT("lchown to other users and setuid bits on their files");
  auto result =
      apply(TarBuilder()
                .dir("d/", {.mode = 02775, .uid = 10, .gid = 20, .mtime = 1000000000})
                .file("d/suid", "x", {.mode = 04755, .uid = 1234, .gid = 5678, .mtime = 1234567890})
                .file("d/sgid", "x", {.mode = 02711, .uid = 1, .gid = 2})
                .dir("tmp/", {.mode = 01777})
                .symlink("d/link", "suid", {.uid = 42, .gid = 43, .mtime = 1111111111})
                .file("ro", "x", {.mode = 0400, .uid = 65534, .gid = 65534})
                .finish());
  ASSERT_TRUE(result) << result.error().message;
  auto suid = lstat_of(root_ / "d" / "suid");
  EXPECT_EQ(suid.st_mode & 07777, 04755u) << "setuid survives the chown (applied after it)";
  EXPECT_EQ(suid.st_uid, 1234u);
  EXPECT_EQ(suid.st_gid, 5678u);
  EXPECT_EQ(suid.st_mtim.tv_sec, 1234567890);
  auto sgid = lstat_of(root_ / "d" / "sgid");
  EXPECT_EQ(sgid.st_mode & 07777, 02711u);
  auto d = lstat_of(root_ / "d");
  EXPECT_EQ(d.st_mode & 07777, 02775u);
  EXPECT_EQ(d.st_uid, 10u);
  EXPECT_EQ(d.st_gid, 20u);
  EXPECT_EQ(d.st_mtim.tv_sec, 1000000000) << "directory time restored after its contents";
  EXPECT_EQ(lstat_of(root_ / "tmp").st_mode & 07777, 01777u);
  auto link = lstat_of(root_ / "d" / "link");
  EXPECT_EQ(link.st_uid, 42u);
  EXPECT_EQ(link.st_gid, 43u);
  EXPECT_EQ(link.st_mtim.tv_sec, 1111111111);
  EXPECT_EQ(lstat_of(root_ / "ro").st_uid, 65534u);
  EXPECT_EQ(lstat_of(root_ / "ro").st_mode & 07777, 0400u);
}

TEST_F(ApplierTest, OwnershipIsLeftAloneWhenNotPreserved) {
  ApplyOptions options;
  options.preserve_owner = false;
  const std::string tar =
      TarBuilder().file("f", "x", {.mode = 0640, .uid = 4321, .gid = 4321}).finish();
  StringReader in(tar);
  auto result = apply_tar(root_, in, options);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(lstat_of(root_ / "f").st_uid, ::geteuid());
  EXPECT_EQ(lstat_of(root_ / "f").st_mode & 07777, 0640u);
}

TEST_F(ApplierTest, RegularFileTimesWithoutRoot) {
  auto result = apply(TarBuilder()
                          .dir("d/", {.mtime = 1000000000})
                          .file("d/f", "x", {.mtime = 1234567890})
                          .dir("d/sub/", {.mtime = 1100000000})
                          .file("d/sub/g", "y")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(lstat_of(root_ / "d" / "f").st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(lstat_of(root_ / "d").st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(lstat_of(root_ / "d" / "sub").st_mtim.tv_sec, 1100000000);
}

TEST_F(ApplierTest, DevicesAreCreated) {
  BERTH_REQUIRE_ROOT("mknod of character and block devices");
  auto result = apply(TarBuilder()
                          .device("dev/null", AE_IFCHR, 1, 3, {.mode = 0666})
                          .device("dev/loop0", AE_IFBLK, 7, 0, {.mode = 0660, .gid = 6})
                          .fifo("dev/fifo", {.mode = 0620})
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  auto null_st = lstat_of(root_ / "dev" / "null");
  EXPECT_TRUE(S_ISCHR(null_st.st_mode));
  EXPECT_EQ(null_st.st_rdev, makedev(1, 3));
  EXPECT_EQ(null_st.st_mode & 07777, 0666u);
  auto loop = lstat_of(root_ / "dev" / "loop0");
  EXPECT_TRUE(S_ISBLK(loop.st_mode));
  EXPECT_EQ(loop.st_rdev, makedev(7, 0));
  EXPECT_EQ(loop.st_gid, 6u);
  EXPECT_EQ(lstat_of(root_ / "dev" / "fifo").st_mode & 07777, 0620u);
}

TEST_F(ApplierTest, HardLinks) {
  write_file(root_ / "pre", "from an earlier layer");
  auto result = apply(TarBuilder()
                          .file("a", "shared")
                          .hardlink("b", "a")
                          .dir("dir/")
                          .hardlink("dir/c", "./a")
                          .hardlink("lnk", "pre")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  auto a = lstat_of(root_ / "a");
  EXPECT_EQ(a.st_nlink, 3u);
  EXPECT_EQ(lstat_of(root_ / "b").st_ino, a.st_ino);
  EXPECT_EQ(lstat_of(root_ / "dir" / "c").st_ino, a.st_ino);
  EXPECT_EQ(read_file(root_ / "dir" / "c"), "shared");
  EXPECT_EQ(lstat_of(root_ / "lnk").st_ino, lstat_of(root_ / "pre").st_ino);

  // Replacing an existing entry, and a missing target.
  write_file(root_ / "existing", "old");
  auto relink = apply(TarBuilder().hardlink("existing", "a").finish());
  ASSERT_TRUE(relink) << relink.error().message;
  EXPECT_EQ(read_file(root_ / "existing"), "shared");
  auto missing = apply(TarBuilder().hardlink("m", "nope").finish());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "apply layer: hard link \"m\": target \"nope\" not found");
}

TEST_F(ApplierTest, Xattrs) {
  auto result = apply(TarBuilder()
                          .file("f", "x", {.xattrs = {{"user.mime", "text/plain"}}})
                          .dir("d/", {.xattrs = {{"user.dir", std::string("bin\0ary", 7)}}})
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(get_xattr(root_ / "f", "user.mime"), "text/plain");
  EXPECT_EQ(get_xattr(root_ / "d", "user.dir"), std::string("bin\0ary", 7));
}

TEST_F(ApplierTest, PrivilegedXattrs) {
  BERTH_REQUIRE_ROOT("trusted.* and security.capability xattrs");
  // A valid VFS_CAP_REVISION_2 value: cap_net_bind_service (bit 10) permitted + effective.
  std::string cap(
      "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  auto result =
      apply(TarBuilder()
                .file("bin/ping", "elf",
                      {.mode = 0755, .uid = 0, .gid = 0, .xattrs = {{"security.capability", cap}}})
                .file("t", "x", {.xattrs = {{"trusted.berth", "yes"}}})
                .symlink("s", "t", {.xattrs = {{"trusted.link", "on-the-link"}}})
                .file("o", "x", {.xattrs = {{"trusted.overlay.redirect", "/etc"}}})
                .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(get_xattr(root_ / "bin" / "ping", "security.capability"), cap)
      << "set after chown, which would clear it";
  EXPECT_EQ(get_xattr(root_ / "t", "trusted.berth"), "yes");
  EXPECT_EQ(get_xattr(root_ / "s", "trusted.link"), "on-the-link");
  EXPECT_EQ(get_xattr(root_ / "t", "trusted.link"), "<absent>") << "not set on the target";
  EXPECT_EQ(get_xattr(root_ / "o", "trusted.overlay.redirect"), "<absent>")
      << "overlayfs metadata never comes from an image";
}

TEST_F(ApplierTest, ReplacementRules) {
  stdfs::create_directories(root_ / "dir-to-file" / "sub");
  write_file(root_ / "dir-to-file" / "sub" / "x", "x");
  write_file(root_ / "file-to-dir", "x");
  stdfs::create_directories(root_ / "dir-to-link" / "sub");
  stdfs::create_symlink("old-target", root_ / "link-to-link");
  write_file(root_ / "file-to-file", "old content that is longer");
  stdfs::create_directories(root_ / "merge");
  write_file(root_ / "merge" / "old", "old");
  stdfs::create_symlink("merge", root_ / "link-to-dir");

  auto result = apply(TarBuilder()
                          .file("dir-to-file", "now a file")
                          .dir("file-to-dir/")
                          .symlink("dir-to-link", "/target")
                          .symlink("link-to-link", "new-target")
                          .file("file-to-file", "new")
                          .dir("merge/", {.mode = 0700})
                          .file("merge/new", "new")
                          .dir("link-to-dir/")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "dir-to-file"), "now a file");
  EXPECT_TRUE(S_ISDIR(lstat_of(root_ / "file-to-dir").st_mode));
  EXPECT_EQ(stdfs::read_symlink(root_ / "dir-to-link"), "/target");
  EXPECT_EQ(stdfs::read_symlink(root_ / "link-to-link"), "new-target");
  EXPECT_EQ(read_file(root_ / "file-to-file"), "new");
  EXPECT_EQ(read_file(root_ / "merge" / "old"), "old") << "directories merge";
  EXPECT_EQ(read_file(root_ / "merge" / "new"), "new");
  EXPECT_EQ(lstat_of(root_ / "merge").st_mode & 07777, 0700u);
  EXPECT_TRUE(S_ISDIR(lstat_of(root_ / "link-to-dir").st_mode)) << "a symlink is not a dir";
}

// ---- whiteouts ----------------------------------------------------------------------------------

class WhiteoutTest : public ApplierTest {
 protected:
  void SetUp() override {
    ApplierTest::SetUp();
    write_file(root_ / "f", "f");
    write_file(root_ / "d" / "a", "a");
    write_file(root_ / "d" / "sub" / "b", "b");
    write_file(root_ / "d" / "sub" / "deep" / "c", "c");
    write_file(root_ / "o" / "old1", "1");
    write_file(root_ / "o" / "olddir" / "y", "y");
    write_file(root_ / "o" / "kept-dir" / "old", "old");
  }
  std::vector<std::string> listing(const stdfs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
      out.push_back(stdfs::relative(e.path(), dir).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(WhiteoutTest, ApplyModeDeletes) {
  auto result = apply(TarBuilder()
                          .file(".wh.f", "")
                          .file("d/.wh.sub", "")
                          .file("d/.wh.never-existed", "")
                          .file("missing-parent/.wh.x", "")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(exists_nofollow(root_ / "f"));
  EXPECT_FALSE(exists_nofollow(root_ / "d" / "sub")) << "non-empty directories go too";
  EXPECT_TRUE(exists_nofollow(root_ / "d" / "a"));
  EXPECT_FALSE(exists_nofollow(root_ / "missing-parent")) << "no parent made for a whiteout";
  EXPECT_FALSE(exists_nofollow(root_ / ".wh.f")) << "the marker itself is not written";
}

TEST_F(WhiteoutTest, OpaqueMarkerBeforeNewEntries) {
  auto result = apply(TarBuilder()
                          .dir("o/")
                          .file("o/.wh..wh..opq", "")
                          .file("o/new", "n")
                          .dir("o/kept-dir/")
                          .file("o/kept-dir/fresh", "f")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(listing(root_ / "o"), (std::vector<std::string>{"kept-dir", "kept-dir/fresh", "new"}));
}

TEST_F(WhiteoutTest, OpaqueMarkerAfterNewEntries) {
  auto result = apply(TarBuilder()
                          .dir("o/")
                          .file("o/new", "n")
                          .dir("o/kept-dir/")
                          .file("o/kept-dir/fresh", "f")
                          .file("o/implicit/parent/file", "i")
                          .file("o/.wh..wh..opq", "")
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(listing(root_ / "o"),
            (std::vector<std::string>{"implicit", "implicit/parent", "implicit/parent/file",
                                      "kept-dir", "kept-dir/fresh", "new"}))
      << "old entries go, even inside directories this layer kept";
}

TEST_F(WhiteoutTest, OpaqueOfAMissingDirectoryIsANoOp) {
  auto result = apply(TarBuilder().file("nothing/.wh..wh..opq", "").finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(exists_nofollow(root_ / "nothing"));
}

TEST_F(WhiteoutTest, InvalidWhiteoutNames) {
  auto result = apply(TarBuilder().file("d/.wh.", "").finish());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(WhiteoutTest, OverlayModeWritesOverlayWhiteouts) {
  BERTH_REQUIRE_ROOT("overlay whiteouts are 0:0 character devices (mknod) and trusted.* xattrs");
  stdfs::remove_all(root_);
  stdfs::create_directories(root_);  // an empty upperdir
  write_file(root_ / "f", "copied up earlier");
  auto result = apply_overlay(TarBuilder()
                                  .file(".wh.f", "", {.uid = 5, .gid = 6})
                                  .dir("d/")
                                  .file("d/.wh.gone", "")
                                  .dir("o/")
                                  .file("o/.wh..wh..opq", "")
                                  .file("o/new", "n")
                                  .file("newparent/.wh.x", "")
                                  .finish());
  ASSERT_TRUE(result) << result.error().message;
  for (const auto& p : {root_ / "f", root_ / "d" / "gone", root_ / "newparent" / "x"}) {
    auto st = lstat_of(p);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << p;
    EXPECT_EQ(st.st_rdev, makedev(0, 0)) << p;
  }
  EXPECT_EQ(lstat_of(root_ / "f").st_uid, 5u);
  EXPECT_EQ(get_xattr(root_ / "o", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(read_file(root_ / "o" / "new"), "n");
  EXPECT_FALSE(exists_nofollow(root_ / ".wh.f"));
  EXPECT_FALSE(exists_nofollow(root_ / "o" / ".wh..wh..opq"));
}

// The overlay form, mounted, shows exactly what the apply form produces.
TEST_F(WhiteoutTest, OverlayModeMountedMatchesApplyMode) {
  BERTH_REQUIRE_ROOT("mounting overlayfs");
  const std::string layer = TarBuilder()
                                .file(".wh.f", "")
                                .dir("d/")
                                .file("d/.wh.sub", "")
                                .file("d/added", "+")
                                .dir("o/")
                                .file("o/.wh..wh..opq", "")
                                .dir("o/kept-dir/")
                                .file("o/kept-dir/fresh", "f")
                                .file("o/new", "n")
                                .finish();
  auto lower = dir_ / "lower";
  auto upper = dir_ / "upper";
  auto work = dir_ / "work";
  auto merged = dir_ / "merged";
  run("cp -a " + root_.string() + " " + lower.string());
  for (const auto& p : {upper, work, merged}) stdfs::create_directories(p);

  ApplyOptions overlay;
  overlay.whiteouts = WhiteoutMode::kOverlay;
  StringReader in_overlay(layer);
  auto up = apply_tar(upper, in_overlay, overlay);
  ASSERT_TRUE(up) << up.error().message;
  auto applied = apply(layer);
  ASSERT_TRUE(applied) << applied.error().message;

  std::string opts =
      "lowerdir=" + lower.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
  ASSERT_EQ(::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()), 0)
      << std::strerror(errno);
  auto merged_tree = snapshot(merged);
  ::umount2(merged.c_str(), MNT_DETACH);
  expect_same_tree(snapshot(root_), merged_tree);
}

// ---- input formats ------------------------------------------------------------------------------

class CompressionInputTest : public ApplierTest,
                             public ::testing::WithParamInterface<TarBuilder::Filter> {};

TEST_P(CompressionInputTest, AppliesEveryCompression) {
  const std::string content(100000, 'c');
  auto result = apply(TarBuilder(GetParam()).dir("z/").file("z/data", content).finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "z" / "data"), content);
  EXPECT_EQ(result->size, static_cast<int64_t>(content.size()));
}

INSTANTIATE_TEST_SUITE_P(Filters, CompressionInputTest,
                         ::testing::Values(TarBuilder::Filter::kNone, TarBuilder::Filter::kGzip,
                                           TarBuilder::Filter::kBzip2, TarBuilder::Filter::kXz,
                                           TarBuilder::Filter::kZstd),
                         [](const auto& info) {
                           switch (info.param) {
                             case TarBuilder::Filter::kNone:
                               return "None";
                             case TarBuilder::Filter::kGzip:
                               return "Gzip";
                             case TarBuilder::Filter::kBzip2:
                               return "Bzip2";
                             case TarBuilder::Filter::kXz:
                               return "Xz";
                             case TarBuilder::Filter::kZstd:
                               return "Zstd";
                           }
                           return "Unknown";
                         });

TEST_F(ApplierTest, UstarInputToo) {
  auto result =
      apply(TarBuilder(TarBuilder::Filter::kNone, /*pax=*/false).file("u", "ustar").finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "u"), "ustar");
}

TEST_F(ApplierTest, EmptyInputIsAnEmptyLayer) {
  auto result = apply("");
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->entries, 0);
  auto zeros = apply(std::string(1024, '\0'));
  ASSERT_TRUE(zeros) << zeros.error().message;
  EXPECT_EQ(zeros->entries, 0);
}

TEST_F(ApplierTest, GarbageIsRefused) {
  auto result = apply(std::string(2048, 'g'));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
}

// Tars whose last member is not padded and that have no end-of-archive blocks.
std::string unterminated(const std::string& tar, size_t last_data_size) {
  size_t padding = (512 - last_data_size % 512) % 512;
  return tar.substr(0, tar.size() - 1024 - padding);
}

TEST_F(ApplierTest, UnterminatedTarIsAccepted) {
  const std::string last(700, 'L');
  std::string tar = TarBuilder().file("first", "1").file("last", last).finish();
  ASSERT_EQ(tar.substr(tar.size() - 1024), std::string(1024, '\0'));
  auto result = apply(unterminated(tar, last.size()));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "first"), "1");
  EXPECT_EQ(read_file(root_ / "last"), last);
  EXPECT_EQ(result->entries, 2);

  // Padded but without end blocks, and with a directory last.
  std::string padded = TarBuilder().file("p", last).dir("lastdir/").finish();
  auto result2 = apply(padded.substr(0, padded.size() - 1024));
  ASSERT_TRUE(result2) << result2.error().message;
  EXPECT_TRUE(stdfs::is_directory(root_ / "lastdir"));
}

TEST_F(ApplierTest, UnterminatedGzipTarIsAccepted) {
  const std::string last(1000, 'G');
  std::string tar = unterminated(TarBuilder().file("g", last).finish(), last.size());
  StringWriter gz;
  GzipWriter writer(gz);
  ASSERT_TRUE(writer.write(tar));
  ASSERT_TRUE(writer.finish());
  auto result = apply(gz.str());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / "g"), last);
}

TEST_F(ApplierTest, CorruptGzipIsRefused) {
  std::string tar = TarBuilder().file("f", std::string(50000, 'q')).finish();
  StringWriter gz;
  GzipWriter writer(gz);
  ASSERT_TRUE(writer.write(tar));
  ASSERT_TRUE(writer.finish());
  std::string corrupt = gz.str();
  corrupt[corrupt.size() - 6] ^= 0x01;  // inside the CRC-32 trailer: only a checking reader sees it
  auto result = apply(corrupt);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("gzip"), std::string::npos) << result.error().message;
}

TEST_F(ApplierTest, LongAndNonAsciiNames) {
  const std::string long_dir = std::string(90, 'd') + "/" + std::string(90, 'e');
  const std::string long_name = long_dir + "/" + std::string(200, 'f');
  const std::string long_target = "/" + std::string(300, 't');
  auto result = apply(TarBuilder()
                          .file(long_name, "long")
                          .symlink("long-link", long_target)
                          .file("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", "utf8")
                          .hardlink("hl", long_name)
                          .finish());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(read_file(root_ / long_name), "long");
  EXPECT_EQ(stdfs::read_symlink(root_ / "long-link").string(), long_target);
  EXPECT_EQ(read_file(root_ / "caf\xc3\xa9" / "\xe6\x97\xa5\xe6\x9c\xac"), "utf8");
  EXPECT_EQ(lstat_of(root_ / "hl").st_ino, lstat_of(root_ / long_name).st_ino);
}

TEST_F(ApplierTest, RootEntryCarriesTheRootsMetadata) {
  auto result =
      apply(TarBuilder().dir("./", {.mode = 0711, .mtime = 1200000000}).file("f", "x").finish());
  ASSERT_TRUE(result) << result.error().message;
  auto st = lstat_of(root_);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1200000000) << "restored after the root's contents were written";
}

TEST_F(ApplierTest, TruncatedMemberIsRefused) {
  const std::string data(5000, 'T');
  std::string tar = TarBuilder().file("ok", "fine").file("cut", data).finish();
  // Cut in the middle of "cut"'s data.
  std::string truncated = tar.substr(0, 512 + 512 + 512 + 3000);
  auto result = apply(truncated);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("apply layer: entry \"cut\": truncated"), std::string::npos)
      << result.error().message;

  // Cut inside a header.
  auto in_header = apply(tar.substr(0, 512 + 512 + 200));
  ASSERT_FALSE(in_header);
  EXPECT_EQ(in_header.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::core::layer
