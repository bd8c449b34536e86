#include "core/container/archive.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/layer/applier.hpp"
#include "tests/unit/archive/tree_snapshot.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::container {
namespace {

namespace stdfs = std::filesystem;
using layer::testing::lstat_of;
using layer::testing::read_file;
using layer::testing::read_tar;
using layer::testing::TarBuilder;
using layer::testing::TarMember;
using layer::testing::TempDir;
using layer::testing::write_file;

constexpr int64_t kMtime = 1795372562;  // 2026-11-22T18:36:02Z

void set_mtime(const stdfs::path& p, int64_t secs) {
  struct timespec ts[2] = {{secs, 0}, {secs, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << p;
}

// A small container root next to an "outside" directory standing for the host.
struct Tree {
  TempDir tmp;
  stdfs::path root = tmp.path() / "root";
  stdfs::path outside = tmp.path() / "outside";

  Tree() {
    stdfs::create_directories(outside);
    write_file(outside / "secret", "host secret");
    write_file(root / "tmp/file.txt", "cap data\n");
    ::chmod((root / "tmp/file.txt").c_str(), 0644);
    set_mtime(root / "tmp/file.txt", kMtime);
    write_file(root / "tmp/dir/a", "a\n");
    write_file(root / "tmp/dir/sub/b", "bb");
    ::chmod((root / "tmp/dir").c_str(), 0755);
    ::symlink("/tmp/dir", (root / "link").c_str());
    ::symlink("../tmp/file.txt", (root / "tmp/rel").c_str());
    write_file(root / "usr/lib/x", "x");
    ::symlink("usr/lib", (root / "lib").c_str());
    write_file(root / "bin/su", "su");
    ::chmod((root / "bin/su").c_str(), 04755);
    stdfs::create_directories(root / "var/tmp");
    ::chmod((root / "var/tmp").c_str(), 01777);
    // Symlinks that would reach the host if they were followed outside the root.
    ::symlink(outside.c_str(), (root / "tmp/hostlink").c_str());
    ::symlink("../../../../../../../../..", (root / "tmp/up").c_str());
  }
  std::string r() const { return root.string(); }
};

TEST(ArchiveStat, GoFileModeBits) {
  EXPECT_EQ(go_file_mode(S_IFREG | 0644), 420u);
  EXPECT_EQ(go_file_mode(S_IFDIR | 0755), 2147484141u);  // /tmp in the capture
  EXPECT_EQ(go_file_mode(S_IFLNK | 0777), (1u << 27) | 0777);
  EXPECT_EQ(go_file_mode(S_IFREG | 04755), (1u << 23) | 0755);
  EXPECT_EQ(go_file_mode(S_IFREG | 02755), (1u << 22) | 0755);
  EXPECT_EQ(go_file_mode(S_IFDIR | 01777), (1u << 31) | (1u << 20) | 0777);
  EXPECT_EQ(go_file_mode(S_IFCHR | 0666), (1u << 26) | (1u << 21) | 0666);
  EXPECT_EQ(go_file_mode(S_IFBLK | 0660), (1u << 26) | 0660);
  EXPECT_EQ(go_file_mode(S_IFIFO | 0600), (1u << 25) | 0600);
  EXPECT_EQ(go_file_mode(S_IFSOCK | 0755), (1u << 24) | 0755);
}

TEST(ArchiveStat, FilesDirectoriesAndLinks) {
  Tree t;
  auto file = stat_path(t.r(), "/tmp/file.txt");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->name, "file.txt");
  EXPECT_EQ(file->size, 9);
  EXPECT_EQ(file->mode, 420u);
  EXPECT_EQ(file->mtime, "2026-11-22T18:36:02Z");
  EXPECT_EQ(file->link_target, "");

  auto dir = stat_path(t.r(), "/tmp/dir");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->name, "dir");
  EXPECT_EQ(dir->mode, 2147484141u);

  // The link itself, and where it leads inside the container.
  auto link = stat_path(t.r(), "/link");
  ASSERT_TRUE(link);
  EXPECT_EQ(link->name, "link");
  EXPECT_EQ(link->mode, (1u << 27) | 0777);
  EXPECT_EQ(link->size, 8);
  EXPECT_EQ(link->link_target, "/tmp/dir");
  auto rel = stat_path(t.r(), "tmp/rel");
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->link_target, "/tmp/file.txt");
  auto up = stat_path(t.r(), "/tmp/up");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->link_target, "/");

  // A trailing "/" resolves the last element too; "/." names the directory itself.
  auto through = stat_path(t.r(), "/link/");
  ASSERT_TRUE(through);
  EXPECT_EQ(through->name, "link");
  EXPECT_EQ(through->mode, 2147484141u);
  auto dot = stat_path(t.r(), "/tmp/dir/.");
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->name, ".");
  EXPECT_TRUE(dot->mode & kGoModeDir);
  auto root = stat_path(t.r(), "/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->name, "/");

  // Parent symlinks resolve inside the container.
  auto x = stat_path(t.r(), "/lib/x");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->name, "x");
  EXPECT_EQ(x->size, 1);
  auto su = stat_path(t.r(), "/bin/su");
  ASSERT_TRUE(su);
  EXPECT_EQ(su->mode, (1u << 23) | 0755);
  auto sticky = stat_path(t.r(), "/var/tmp");
  ASSERT_TRUE(sticky);
  EXPECT_EQ(sticky->mode, (1u << 31) | (1u << 20) | 0777);
}

TEST(ArchiveStat, MissingAndEscapingPathsAreNotFound) {
  Tree t;
  for (const char* p :
       {"/nonexistent", "/tmp/nope/x", "/../../outside/secret", "/tmp/hostlink/secret",
        "/tmp/up/outside/secret", "/link/../../../secret"}) {
    auto s = stat_path(t.r(), p);
    ASSERT_FALSE(s) << p;
    EXPECT_EQ(s.error().code, ErrorCode::kNotFound) << p << ": " << s.error().message;
  }
  auto notdir = stat_path(t.r(), "/tmp/file.txt/");
  ASSERT_FALSE(notdir);
  EXPECT_NE(notdir.error().code, ErrorCode::kNotFound);
}

TEST(ArchiveStat, HeaderMatchesDockerdAndRoundTrips) {
  PathStat s{"file.txt", 9, 420, "2026-11-22T18:36:02Z", ""};
  // X-Docker-Container-Path-Stat of the cp_from_file capture.
  EXPECT_EQ(encode_path_stat(s),
            "eyJuYW1lIjoiZmlsZS50eHQiLCJzaXplIjo5LCJtb2RlIjo0MjAsIm10aW1lIjoiMjAyNi0xMS0yMlQxODoz"
            "NjowMloiLCJsaW5rVGFyZ2V0IjoiIn0=");
  PathStat d{"tmp", 4096, 2147484141u, "2026-11-22T18:36:02Z", "/x/y"};
  for (const auto& in : {s, d, PathStat{"a", 0, 0, "", ""}, PathStat{"ab", 1, 1, "", ""}}) {
    auto out = decode_path_stat(encode_path_stat(in));
    ASSERT_TRUE(out);
    EXPECT_EQ(out->name, in.name);
    EXPECT_EQ(out->size, in.size);
    EXPECT_EQ(out->mode, in.mode);
    EXPECT_EQ(out->mtime, in.mtime);
    EXPECT_EQ(out->link_target, in.link_target);
  }
  EXPECT_FALSE(decode_path_stat("not base64!"));
}

std::vector<std::string> member_names(const std::vector<TarMember>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.name);
  return out;
}

std::string archive_of(const Tree& t, const std::string& path) {
  StringWriter out;
  auto st = archive_path(t.r(), path, out);
  EXPECT_TRUE(st) << path << ": " << (st ? "" : st.error().message);
  return out.take();
}

TEST(ArchivePath, SingleFileInDockerdLayout) {
  Tree t;
  std::string tar = archive_of(t, "/tmp/file.txt");
  auto ms = read_tar(tar);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].name, "file.txt");
  EXPECT_EQ(ms[0].data, "cap data\n");
  EXPECT_EQ(ms[0].perm, 0644u);
  // dockerd's mode field carries the type bits: 0o100644.
  ASSERT_GE(tar.size(), 512u);
  EXPECT_EQ(tar.substr(100, 7), "0100644");
}

TEST(ArchivePath, DirectoryDotContentsAndLinks) {
  Tree t;
  auto dir = read_tar(archive_of(t, "/tmp/dir"));
  EXPECT_EQ(member_names(dir),
            (std::vector<std::string>{"dir/", "dir/a", "dir/sub/", "dir/sub/b"}));
  std::string raw = archive_of(t, "/tmp/dir");
  EXPECT_EQ(raw.substr(100, 7), "0040755");

  auto contents = read_tar(archive_of(t, "/tmp/dir/."));
  EXPECT_EQ(member_names(contents), (std::vector<std::string>{"./", "./a", "./sub/", "./sub/b"}));

  auto link = read_tar(archive_of(t, "/link"));
  ASSERT_EQ(link.size(), 1u);
  EXPECT_EQ(link[0].name, "link");
  EXPECT_EQ(link[0].type, static_cast<unsigned>(AE_IFLNK));
  EXPECT_EQ(link[0].link, "/tmp/dir");

  // "link/" follows it and names the entries after the link.
  auto followed = read_tar(archive_of(t, "/link/"));
  EXPECT_EQ(member_names(followed),
            (std::vector<std::string>{"link/", "link/a", "link/sub/", "link/sub/b"}));
  auto via_parent = read_tar(archive_of(t, "/lib/x"));
  EXPECT_EQ(member_names(via_parent), (std::vector<std::string>{"x"}));

  StringWriter out;
  auto missing = archive_path(t.r(), "/nonexistent", out);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(out.str().empty());
  auto host = archive_path(t.r(), "/tmp/hostlink/secret", out);
  ASSERT_FALSE(host);
  EXPECT_EQ(host.error().code, ErrorCode::kNotFound);
}

TEST(ArchivePath, HardLinksBecomeLinkEntries) {
  Tree t;
  ASSERT_EQ(::link((t.root / "tmp/dir/a").c_str(), (t.root / "tmp/dir/sub/a2").c_str()), 0);
  auto ms = read_tar(archive_of(t, "/tmp/dir"));
  ASSERT_EQ(ms.size(), 5u);
  EXPECT_EQ(ms[3].name, "dir/sub/a2");
  EXPECT_EQ(ms[3].hardlink, "dir/a");
}

// --- extract_archive -------------------------------------------------------------------------

Status extract(const Tree& t, const std::string& dest, const std::string& tar,
               bool no_overwrite = true, bool copy_ids = false,
               std::optional<Owner> owner = std::nullopt) {
  StringReader in(tar);
  return extract_archive(t.r(), dest, in, no_overwrite, copy_ids, owner);
}

TEST(ExtractArchive, NestedDirectoriesAndOwners) {
  BERTH_REQUIRE_ROOT("files owned by other users");
  Tree t;
  TarBuilder::Meta owned;
  owned.uid = 1000;
  owned.gid = 1001;
  owned.mode = 0640;
  TarBuilder::Meta dirmeta;
  dirmeta.uid = 1000;
  dirmeta.mode = 0750;
  dirmeta.mtime = 1600000000;
  std::string tar = TarBuilder()
                        .dir("d1", dirmeta)
                        .file("d1/d2/f", "deep", owned)  // d2 has no entry of its own
                        .file("top", "top", owned)
                        .symlink("d1/ln", "../top", owned)
                        .finish();
  ASSERT_TRUE(extract(t, "/tmp", tar));
  EXPECT_EQ(read_file(t.root / "tmp/d1/d2/f"), "deep");
  EXPECT_EQ(read_file(t.root / "tmp/top"), "top");
  EXPECT_EQ(stdfs::read_symlink(t.root / "tmp/d1/ln"), "../top");
  auto f = lstat_of(t.root / "tmp/d1/d2/f");
  EXPECT_EQ(f.st_uid, 0u);  // docker cp without -a: root
  EXPECT_EQ(f.st_mode & 07777, 0640u);
  EXPECT_EQ(f.st_mtim.tv_sec, 1700000000);
  auto d2 = lstat_of(t.root / "tmp/d1/d2");
  EXPECT_EQ(d2.st_mode & 07777, 0755u);
  auto d1 = lstat_of(t.root / "tmp/d1");
  EXPECT_EQ(d1.st_mode & 07777, 0750u);
  EXPECT_EQ(d1.st_mtim.tv_sec, 1600000000);  // set after its contents

  // -a keeps the tar's owners; an explicit owner (the container's User) wins over both.
  ASSERT_TRUE(extract(t, "/tmp", tar, true, true));
  EXPECT_EQ(lstat_of(t.root / "tmp/top").st_uid, 1000u);
  EXPECT_EQ(lstat_of(t.root / "tmp/top").st_gid, 1001u);
  EXPECT_EQ(lstat_of(t.root / "tmp/d1/ln").st_uid, 1000u);
  ASSERT_TRUE(extract(t, "/tmp", tar, true, true, Owner{42, 43}));
  EXPECT_EQ(lstat_of(t.root / "tmp/top").st_uid, 42u);
  EXPECT_EQ(lstat_of(t.root / "tmp/d1/d2/f").st_gid, 43u);
}

TEST(ExtractArchive, DestinationRules) {
  BERTH_REQUIRE_ROOT("extracted entries are chowned to root, as docker cp without -a");
  Tree t;
  std::string tar = TarBuilder().file("new.txt", "n").finish();
  // Through a symlink to a directory (last element followed, inside the container).
  ASSERT_TRUE(extract(t, "/link", tar));
  EXPECT_EQ(read_file(t.root / "tmp/dir/new.txt"), "n");
  ASSERT_TRUE(extract(t, "/lib/", tar));
  EXPECT_TRUE(stdfs::exists(t.root / "usr/lib/new.txt"));

  auto missing = extract(t, "/nonexistent", tar);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto file = extract(t, "/tmp/file.txt", tar);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(file.error().message, "extraction point is not a directory");
  // A symlink to a host directory is read inside the root, where it leads nowhere.
  auto host = extract(t, "/tmp/hostlink", tar);
  ASSERT_FALSE(host);
  EXPECT_EQ(host.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(stdfs::exists(t.outside / "new.txt"));
  // "/tmp/up" climbs to the container's root, not the host's.
  ASSERT_TRUE(extract(t, "/tmp/up", tar));
  EXPECT_TRUE(stdfs::exists(t.root / "new.txt"));
}

TEST(ExtractArchive, HostileEntriesAreRefused) {
  BERTH_REQUIRE_ROOT("extracted entries are chowned to root, as docker cp without -a");
  Tree t;
  auto refused = [&](const std::string& tar, const std::string& what) {
    auto st = extract(t, "/tmp", tar);
    ASSERT_FALSE(st) << what;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << what << ": " << st.error().message;
  };
  refused(TarBuilder().file("../../../x", "x").finish(), "dot-dot");
  auto msg = extract(t, "/tmp", TarBuilder().file("../x", "x").finish());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().message, "extract archive: \"../x\" is outside of \"/tmp\"");
  refused(TarBuilder().symlink("evil", "../../..").finish(), "relative symlink out of dest");
  refused(TarBuilder().file("ok", "x").hardlink("h", "../../../outside/secret").finish(),
          "hard link out of dest");
  refused(TarBuilder().hardlink("h2", "../file.txt").finish(), "hard link to a sibling of dest");

  // Allowed by dockerd's rules, and still cannot leave the root: an absolute symlink followed
  // by an entry below it lands in the container's root.
  std::string abs = TarBuilder().symlink("evil", "/").file("evil/pwned", "p").finish();
  ASSERT_TRUE(extract(t, "/tmp", abs));
  EXPECT_EQ(read_file(t.root / "pwned"), "p");
  std::string host = TarBuilder().symlink("hl", t.outside.string()).file("hl/pwned", "p").finish();
  (void)extract(t, "/tmp", host);  // may fail (the target is missing in the root); never leaks

  for (const auto& e : stdfs::recursive_directory_iterator(t.outside)) {
    EXPECT_EQ(e.path(), t.outside / "secret") << "written outside the root";
  }
  EXPECT_EQ(read_file(t.outside / "secret"), "host secret");
  EXPECT_FALSE(stdfs::exists(t.tmp.path() / "x"));
  EXPECT_FALSE(stdfs::exists(t.tmp.path() / "pwned"));
  EXPECT_FALSE(stdfs::exists("/pwned"));
  EXPECT_FALSE(stdfs::exists("/x"));
}

TEST(ExtractArchive, HardLinksWhiteoutsAndDotEntries) {
  BERTH_REQUIRE_ROOT("extracted entries are chowned to root, as docker cp without -a");
  Tree t;
  ::chmod((t.root / "tmp").c_str(), 01777);
  std::string tar = TarBuilder()
                        .dir(".", {.mode = 0700})
                        .file("f", "shared")
                        .hardlink("g", "f")
                        .hardlink("f", "f")
                        .file(".wh.file.txt", "")
                        .finish();
  ASSERT_TRUE(extract(t, "/tmp", tar));
  EXPECT_EQ(lstat_of(t.root / "tmp/f").st_ino, lstat_of(t.root / "tmp/g").st_ino);
  EXPECT_EQ(read_file(t.root / "tmp/g"), "shared");
  // No whiteout semantics in docker cp: just a file, and file.txt stays.
  EXPECT_TRUE(stdfs::is_regular_file(t.root / "tmp/.wh.file.txt"));
  EXPECT_EQ(read_file(t.root / "tmp/file.txt"), "cap data\n");
  // "." is the destination itself, left as it was.
  EXPECT_EQ(lstat_of(t.root / "tmp").st_mode & 07777, 01777u);
}

TEST(ExtractArchive, NoOverwriteDirNonDir) {
  BERTH_REQUIRE_ROOT("extracted entries are chowned to root, as docker cp without -a");
  Tree t;
  std::string file_over_dir = TarBuilder().file("dir", "x").finish();
  auto st = extract(t, "/tmp", file_over_dir, true);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(st.error().message,
            "cannot overwrite directory \"/tmp/dir\" with non-directory \"/tmp\"");
  EXPECT_TRUE(stdfs::is_directory(t.root / "tmp/dir"));

  std::string dir_over_file = TarBuilder().dir("file.txt").finish();
  auto st2 = extract(t, "/tmp", dir_over_file, true);
  ASSERT_FALSE(st2);
  EXPECT_EQ(st2.error().message,
            "cannot overwrite non-directory \"/tmp/file.txt\" with directory \"/tmp\"");
  EXPECT_TRUE(stdfs::is_regular_file(t.root / "tmp/file.txt"));

  // Without the flag the archive wins, as dockerd.
  ASSERT_TRUE(extract(t, "/tmp", file_over_dir, false));
  EXPECT_EQ(read_file(t.root / "tmp/dir"), "x");
  ASSERT_TRUE(extract(t, "/tmp", dir_over_file, false));
  EXPECT_TRUE(stdfs::is_directory(t.root / "tmp/file.txt"));
  // A directory over a directory merges.
  write_file(t.root / "tmp/m/keep", "k");
  ASSERT_TRUE(extract(t, "/tmp", TarBuilder().dir("m").file("m/new", "n").finish(), true));
  EXPECT_TRUE(stdfs::exists(t.root / "tmp/m/keep"));
  EXPECT_TRUE(stdfs::exists(t.root / "tmp/m/new"));
}

TEST(ExtractArchive, CompressedAndUnterminatedTars) {
  BERTH_REQUIRE_ROOT("extracted entries are chowned to root, as docker cp without -a");
  Tree t;
  std::string gz = TarBuilder(TarBuilder::Filter::kGzip).file("zipped", "z").finish();
  ASSERT_TRUE(extract(t, "/tmp", gz));
  EXPECT_EQ(read_file(t.root / "tmp/zipped"), "z");
  // docker build -f - style: no padding after the last member, no end blocks.
  std::string plain = TarBuilder().file("cut", "12345").finish();
  std::string cut = plain.substr(0, 512 + 5);
  ASSERT_TRUE(extract(t, "/tmp", cut));
  EXPECT_EQ(read_file(t.root / "tmp/cut"), "12345");
  auto garbage = extract(t, "/tmp", std::string(1024, 'x'));
  EXPECT_FALSE(garbage);
}

TEST(ExtractArchive, RoundTripFromArchivePath) {
  BERTH_REQUIRE_ROOT("extracted entries are chowned to root, as docker cp without -a");
  Tree t;
  std::string tar = archive_of(t, "/tmp/dir");
  ASSERT_TRUE(extract(t, "/usr", tar));
  EXPECT_EQ(read_file(t.root / "usr/dir/sub/b"), "bb");
  std::string contents = archive_of(t, "/tmp/dir/.");
  stdfs::create_directories(t.root / "copy");
  ASSERT_TRUE(extract(t, "/copy", contents));
  EXPECT_EQ(read_file(t.root / "copy/a"), "a\n");
}

// A running container's root is /proc/<pid>/root: its mount namespace, volumes included.
TEST(ArchiveProcRoot, SeesMountsOfTheContainerNamespace) {
  BERTH_REQUIRE_ROOT("unshare(CLONE_NEWNS) and mount");
  TempDir tmp;
  auto mnt = tmp.path() / "vol";
  stdfs::create_directories(mnt);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Only raw syscalls in the child.
    ::close(ready[0]);
    char ok = '1';
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
      ok = '0';
    } else {
      std::string f = mnt.string() + "/in-volume";
      int fd = ::open(f.c_str(), O_WRONLY | O_CREAT, 0644);
      if (fd < 0 || ::write(fd, "vol", 3) != 3) ok = '0';
      if (fd >= 0) ::close(fd);
    }
    if (::write(ready[1], &ok, 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ::close(ready[0]);
  std::string root = "/proc/" + std::to_string(pid) + "/root";
  if (ok == '1') {
    EXPECT_FALSE(stdfs::exists(mnt / "in-volume"));  // not in our namespace
    auto st = stat_path(root, (mnt / "in-volume").string());
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    StringWriter out;
    ASSERT_TRUE(archive_path(root, (mnt / "in-volume").string(), out));
    auto ms = read_tar(out.str());
    ASSERT_EQ(ms.size(), 1u);
    EXPECT_EQ(ms[0].data, "vol");
    StringReader in(TarBuilder().file("uploaded", "up").finish());
    ASSERT_TRUE(extract_archive(root, mnt.string(), in, true, false));
    EXPECT_FALSE(stdfs::exists(mnt / "uploaded"));
    EXPECT_EQ(read_file(stdfs::path(root) / mnt.relative_path() / "uploaded"), "up");
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_EQ(ok, '1') << "could not set up the child's mount namespace";
}

// --- export ----------------------------------------------------------------------------------

TEST(ExportRootfs, RoundTripsThroughTheLayerApplier) {
  BERTH_REQUIRE_ROOT("owners and device nodes");
  Tree t;
  ASSERT_EQ(::mknod((t.root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::lchown((t.root / "link").c_str(), 5, 6), 0);
  ASSERT_EQ(::chown((t.root / "usr/lib/x").c_str(), 1000, 1000), 0);
  ASSERT_EQ(::link((t.root / "bin/su").c_str(), (t.root / "bin/su2").c_str()), 0);
  write_file(t.root / ".dockerenv", "");

  StringWriter out;
  ASSERT_TRUE(export_rootfs(t.r(), out));
  auto ms = read_tar(out.str());
  auto names = member_names(ms);
  EXPECT_NE(std::find(names.begin(), names.end(), ".dockerenv"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "bin/"), names.end());
  for (const auto& n : names) EXPECT_FALSE(n.starts_with("./") || n.starts_with("/")) << n;

  auto copy = t.tmp.path() / "copy";
  stdfs::create_directories(copy);
  StringReader in(out.str());
  auto applied = layer::apply_tar(copy, in);
  ASSERT_TRUE(applied) << applied.error().message;
  auto expected = core::testing::lexical_snapshot(t.root);
  auto actual = core::testing::lexical_snapshot(copy);
  EXPECT_TRUE(expected.contains("link"));
  EXPECT_EQ(expected.at("link").link, "/tmp/dir");
  layer::testing::expect_same_tree(expected, actual);
}

}  // namespace
}  // namespace berth::core::container
