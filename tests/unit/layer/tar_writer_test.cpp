// The tar encoder (dockerd-shaped headers) and write_tree (export / cp archives).
#include "core/layer/tar_writer.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "core/layer/applier.hpp"
#include "core/layer/tree_writer.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::layer {
namespace {

using namespace testing;  // NOLINT

std::string field(const std::string& tar, size_t header, size_t offset, size_t size) {
  std::string f = tar.substr(header + offset, size);
  return f.substr(0, f.find('\0'));
}

TEST(TarWriterTest, HeadersCarryGoStyleModesAndNumericOwners) {
  StringWriter out;
  TarWriter tar(out);
  TarHeader dir;
  dir.name = "etc/";
  dir.type = TarHeader::Type::kDirectory;
  dir.mode = S_IFDIR | 0755;
  dir.mtime = 1700000000;
  ASSERT_TRUE(tar.add(dir));
  TarHeader file;
  file.name = "etc/hosts";
  file.mode = S_IFREG | 04644;
  file.uid = 1000;
  file.gid = 100;
  file.size = 5;
  file.mtime = 1700000001;
  ASSERT_TRUE(tar.add(file));
  ASSERT_TRUE(tar.write_data("hello"));
  ASSERT_TRUE(tar.finish());
  const std::string& bytes = out.str();
  ASSERT_EQ(bytes.size(), 512u + 512u + 512u + 1024u);
  EXPECT_EQ(field(bytes, 0, 0, 100), "etc/");
  EXPECT_EQ(field(bytes, 0, 100, 8), "0040755");
  EXPECT_EQ(bytes[156], '5');
  EXPECT_EQ(field(bytes, 512, 100, 8), "0104644");
  EXPECT_EQ(field(bytes, 512, 108, 8), "0001750");
  EXPECT_EQ(field(bytes, 512, 116, 8), "0000144");
  EXPECT_EQ(field(bytes, 512, 124, 12), "00000000005");
  EXPECT_EQ(field(bytes, 512, 257, 6), "ustar");
  EXPECT_EQ(bytes.substr(512 + 263, 2), "00");
  EXPECT_EQ(field(bytes, 512, 265, 32), "") << "no user names, as dockerd";
  EXPECT_EQ(bytes.substr(1024, 5), "hello");

  auto members = read_tar(bytes);
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[1].name, "etc/hosts");
  EXPECT_EQ(members[1].perm, 04644u);
  EXPECT_EQ(members[1].uid, 1000);
  EXPECT_EQ(members[1].data, "hello");
}

TEST(TarWriterTest, PaxRecordsForWhatUstarCannotHold) {
  StringWriter out;
  TarWriter tar(out);
  TarHeader h;
  h.name = std::string(150, 'n') + "/" + std::string(120, 'f');
  h.mode = S_IFREG | 0644;
  h.uid = 100000000;  // beyond 7 octal digits
  h.gid = 3;
  h.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)},
              {"user.note", "a=b c\n"}};
  ASSERT_TRUE(tar.add(h));
  TarHeader link;
  link.name = "caf\xc3\xa9";
  link.type = TarHeader::Type::kSymlink;
  link.mode = S_IFLNK | 0777;
  link.linkname = "/" + std::string(200, 't');
  ASSERT_TRUE(tar.add(link));
  ASSERT_TRUE(tar.finish());
  EXPECT_NE(out.str().find("SCHILY.xattr.user.note=a=b c\n"), std::string::npos);
  EXPECT_EQ(out.str()[156], 'x');

  auto members = read_tar(out.str());
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].name, h.name);
  EXPECT_EQ(members[0].uid, 100000000);
  EXPECT_EQ(members[0].xattrs["user.note"], "a=b c\n");
  EXPECT_EQ(members[0].xattrs["security.capability"], std::string("\x01\x00\x00\x02", 4));
  EXPECT_EQ(members[1].name, "caf\xc3\xa9");
  EXPECT_EQ(members[1].link, link.linkname);
}

TEST(TarWriterTest, DataLengthIsEnforced) {
  StringWriter out;
  TarWriter tar(out);
  TarHeader h;
  h.name = "f";
  h.mode = S_IFREG | 0644;
  h.size = 3;
  ASSERT_TRUE(tar.add(h));
  EXPECT_FALSE(tar.write_data("toolong"));
  ASSERT_TRUE(tar.write_data("ab"));
  EXPECT_FALSE(tar.finish()) << "one byte short";
}

// ---- write_tree ---------------------------------------------------------------------------------

class WriteTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ / "src";
    write_file(src_ / "etc" / "hostname", "berth\n");
    write_file(src_ / "etc" / "long" / std::string(120, 'x'), "long name");
    write_file(src_ / "bin" / "tool", std::string(70000, 'b'));
    stdfs::permissions(src_ / "bin" / "tool", stdfs::perms(0755));
    write_file(src_ / "empty", "");
    stdfs::create_directories(src_ / "empty-dir");
    stdfs::create_symlink("/etc/hostname", src_ / "abs-link");
    stdfs::create_symlink("../etc", src_ / "bin" / "rel-link");
    stdfs::create_hard_link(src_ / "etc" / "hostname", src_ / "bin" / "hardlink");
    ::mkfifo((src_ / "fifo").c_str(), 0640);
    ::setxattr((src_ / "etc" / "hostname").c_str(), "user.kind", "config", 6, 0);
    ::chmod((src_ / "etc").c_str(), 02750);
    struct timespec ts[2] = {{1500000000, 0}, {1500000000, 0}};
    ::utimensat(AT_FDCWD, (src_ / "empty").c_str(), ts, 0);
  }

  std::string tar_of(const std::string& rel, TreeOptions options = {}) {
    StringWriter out;
    auto st = write_tree(src_, rel, out, options);
    EXPECT_TRUE(st) << st.error().message;
    return out.take();
  }

  std::vector<std::string> names(const std::string& tar) {
    std::vector<std::string> out;
    for (const auto& m : read_tar(tar)) out.push_back(m.name);
    return out;
  }

  TempDir dir_;
  stdfs::path src_;
};

TEST_F(WriteTreeTest, RoundTripThroughApplyGivesTheSameTree) {
  if (is_root()) {
    ::lchown((src_ / "bin" / "tool").c_str(), 123, 456);
    ::lchown((src_ / "abs-link").c_str(), 7, 8);
    ::mknod((src_ / "null").c_str(), S_IFCHR | 0666, makedev(1, 3));
    ::setxattr((src_ / "bin" / "tool").c_str(), "trusted.x", "t", 1, 0);
  }
  std::string tar = tar_of("");
  auto dst = dir_ / "dst";
  stdfs::create_directories(dst);
  StringReader in(tar);
  ApplyOptions options;
  options.preserve_owner = is_root();
  auto applied = apply_tar(dst, in, options);
  ASSERT_TRUE(applied) << applied.error().message;
  expect_same_tree(snapshot(src_, /*dir_mtimes=*/true), snapshot(dst, /*dir_mtimes=*/true));
}

TEST_F(WriteTreeTest, ExportHasNoRootEntryAndDockerNames) {
  auto tar = tar_of("");
  auto members = read_tar(tar);
  std::map<std::string, TarMember> by_name;
  for (auto& m : members) by_name[m.name] = m;
  EXPECT_FALSE(by_name.contains("./"));
  EXPECT_FALSE(by_name.contains("/"));
  ASSERT_TRUE(by_name.contains("etc/")) << "directories end with a slash";
  ASSERT_TRUE(by_name.contains("etc/hostname"));
  ASSERT_TRUE(by_name.contains("bin/hardlink"));
  // Hard links: the first name walked ("bin/" sorts before "etc/") carries the data and the
  // xattrs, the second is a link entry to it.
  EXPECT_EQ(by_name["bin/hardlink"].data, "berth\n");
  EXPECT_TRUE(by_name["bin/hardlink"].hardlink.empty());
  EXPECT_EQ(by_name["bin/hardlink"].xattrs["user.kind"], "config");
  EXPECT_EQ(by_name["etc/hostname"].hardlink, "bin/hardlink");
  EXPECT_EQ(by_name["etc/hostname"].size, 0);
  EXPECT_EQ(by_name["abs-link"].link, "/etc/hostname");
  EXPECT_EQ(by_name["etc/"].perm, 02750u);
  EXPECT_EQ(by_name["fifo"].type, static_cast<unsigned>(AE_IFIFO));
  // Entries are in a stable, sorted order.
  std::vector<std::string> listed = names(tar);
  EXPECT_EQ(listed.front(), "abs-link");
}

TEST_F(WriteTreeTest, SubtreeAndSingleFileAndRename) {
  EXPECT_EQ(names(tar_of("etc")), (std::vector<std::string>{"etc/", "etc/hostname", "etc/long/",
                                                            "etc/long/" + std::string(120, 'x')}));
  EXPECT_EQ(names(tar_of("/etc/hostname")), std::vector<std::string>{"hostname"});
  TreeOptions renamed;
  renamed.rename_to = "copy.txt";
  auto members = read_tar(tar_of("etc/hostname", renamed));
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name, "copy.txt");
  EXPECT_EQ(members[0].data, "berth\n");
  renamed.rename_to = "rootfs";
  auto whole = names(tar_of("/", renamed));
  EXPECT_EQ(whole.front(), "rootfs/");
  EXPECT_NE(std::find(whole.begin(), whole.end(), "rootfs/etc/hostname"), whole.end());
}

TEST_F(WriteTreeTest, SymlinkEntryIsArchivedAsALink) {
  auto members = read_tar(tar_of("abs-link"));
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].type, static_cast<unsigned>(AE_IFLNK));
  EXPECT_EQ(members[0].link, "/etc/hostname");
  EXPECT_TRUE(members[0].data.empty());
}

TEST_F(WriteTreeTest, NeverReadsOutsideTheRoot) {
  auto outside = dir_ / "outside";
  write_file(outside / "secret", "host secret");
  stdfs::create_directory_symlink(outside, src_ / "to-outside");
  stdfs::create_directory_symlink("../outside", src_ / "rel-outside");
  stdfs::create_symlink(outside / "secret", src_ / "secret-link");

  // The whole tree: links stay links, their targets are not read.
  auto tar = tar_of("");
  EXPECT_EQ(tar.find("host secret"), std::string::npos);

  // A path through a symlink resolves inside the root: the host's files are not reachable.
  StringWriter out;
  auto through = write_tree(src_, "to-outside/secret", out);
  ASSERT_FALSE(through);
  EXPECT_EQ(through.error().code, ErrorCode::kNotFound) << through.error().message;
  auto rel = write_tree(src_, "rel-outside/secret", out);
  ASSERT_FALSE(rel);
  EXPECT_EQ(out.str().find("host secret"), std::string::npos);

  auto climbing = write_tree(src_, "../outside/secret", out);
  ASSERT_FALSE(climbing);
  EXPECT_EQ(climbing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(out.str().find("host secret"), std::string::npos);
}

TEST_F(WriteTreeTest, SymlinkedParentsResolveInsideTheRoot) {
  // "/lib -> /usr/lib" in the container: an absolute link, resolved in the root.
  write_file(src_ / "usr" / "lib" / "libc.so", "elf");
  stdfs::create_directory_symlink("/usr/lib", src_ / "lib");
  auto members = read_tar(tar_of("lib/libc.so"));
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name, "libc.so");
  EXPECT_EQ(members[0].data, "elf");
}

TEST_F(WriteTreeTest, SocketsAreSkipped) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string path = (src_ / "sock").string();
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto listed = names(tar_of(""));
  ::close(fd);
  EXPECT_EQ(std::find(listed.begin(), listed.end(), "sock"), listed.end());
  EXPECT_NE(std::find(listed.begin(), listed.end(), "fifo"), listed.end());
}

TEST_F(WriteTreeTest, MissingPathIsNotFound) {
  StringWriter out;
  auto st = write_tree(src_, "nope/nothing", out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace berth::core::layer
