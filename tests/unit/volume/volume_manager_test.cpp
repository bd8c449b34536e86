#include "core/volume/volume_manager.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/volume/local_mount.hpp"
#include "tests/unit/archive/tree_snapshot.hpp"
#include "tests/unit/volume/volume_test_util.hpp"

namespace berth::core::volume {
namespace {

namespace stdfs = std::filesystem;
using core::testing::lexical_snapshot;
using layer::testing::lstat_of;
using layer::testing::read_file;
using layer::testing::write_file;
using testing::Fixture;
using testing::mounts_below;

std::vector<std::string> event_actions(const events::EventBus& bus, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& e : bus.history(0, 0)) {
    if (e.type == "volume" && e.actor_id == name) out.push_back(e.action);
  }
  return out;
}

std::vector<std::string> names(const std::vector<Volume>& vs) {
  std::vector<std::string> out;
  for (const auto& v : vs) out.push_back(v.name);
  return out;
}

TEST(VolumeManager, CreateGetListRemove) {
  Fixture f;
  auto v = f.vm->create("capvol", {{"capture", "1"}}, {}, false);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->name, "capvol");
  EXPECT_EQ(v->driver, "local");
  EXPECT_EQ(v->mountpoint, stdfs::canonical(f.dir).string() + "/capvol/_data");
  EXPECT_EQ(v->labels, (std::map<std::string, std::string>{{"capture", "1"}}));
  EXPECT_TRUE(v->options.empty());
  EXPECT_FALSE(v->anonymous);
  EXPECT_NEAR(static_cast<double>(v->created_at), static_cast<double>(std::time(nullptr)), 5);
  struct stat st = lstat_of(v->mountpoint);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);

  auto got = f.vm->get("capvol");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->labels, v->labels);
  EXPECT_EQ(got->created_at, v->created_at);

  ASSERT_TRUE(f.vm->create("another", {}, {}, false));
  EXPECT_EQ(names(f.vm->list()), (std::vector<std::string>{"another", "capvol"}));

  ASSERT_TRUE(f.vm->remove("capvol", false));
  auto gone = f.vm->get("capvol");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(gone.error().message, "get capvol: no such volume");
  EXPECT_FALSE(stdfs::exists(f.dir + "/capvol"));
  EXPECT_EQ(names(f.vm->list()), (std::vector<std::string>{"another"}));
  EXPECT_EQ(event_actions(f.events, "capvol"), (std::vector<std::string>{"create", "destroy"}));
  for (const auto& e : f.events.history(0, 0)) EXPECT_EQ(e.attributes.at("driver"), "local");
}

TEST(VolumeManager, RemoveMissing) {
  Fixture f;
  auto st = f.vm->remove("nosuchcapvol", false);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(st.error().message, "get nosuchcapvol: no such volume");
  // dockerd: rm -f of a missing volume succeeds.
  EXPECT_TRUE(f.vm->remove("nosuchcapvol", true));
}

TEST(VolumeManager, RandomNameWhenEmpty) {
  Fixture f;
  auto v = f.vm->create("", {}, {}, false);
  ASSERT_TRUE(v);
  ASSERT_EQ(v->name.size(), 64u);
  EXPECT_EQ(v->name.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(v->labels.empty());
}

TEST(VolumeManager, NameRules) {
  Fixture f;
  auto bad = f.vm->create("a", {}, {}, false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message,
            "create a: \"a\" includes invalid characters for a local volume name, only "
            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed");
  for (const char* name : {"-ab", ".ab", "_ab", "a/b", "..", "a b", "ab\n", "ümlaut"}) {
    auto r = f.vm->create(name, {}, {}, false);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << name;
  }
  for (const char* name : {"ab", "a.b", "A_b-9", "0x", "v..."}) {
    EXPECT_TRUE(f.vm->create(name, {}, {}, false)) << name;
  }
  EXPECT_FALSE(stdfs::exists(f.tmp.path() / "b"));
}

TEST(VolumeManager, CreateIsIdempotent) {
  Fixture f;
  auto first = f.vm->create("same", {{"k", "v"}}, {}, false);
  ASSERT_TRUE(first);
  write_file(first->mountpoint + "/data", "keep me");
  auto again = f.vm->create("same", {{"k", "v"}}, {}, false);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->created_at, first->created_at);
  // What `docker run -v same:/x` asks for: no labels, no options → the existing volume.
  auto plain = f.vm->create("same", {}, {}, false);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->labels, first->labels);
  EXPECT_EQ(read_file(first->mountpoint + "/data"), "keep me");
  EXPECT_EQ(event_actions(f.events, "same"), (std::vector<std::string>{"create"}));

  auto conflict = f.vm->create("same", {{"k", "other"}}, {}, false);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(conflict.error().message.find("labels"), std::string::npos);
  auto opts = f.vm->create("same", {}, {{"type", "tmpfs"}, {"device", "tmpfs"}}, false);
  ASSERT_FALSE(opts);
  EXPECT_EQ(opts.error().code, ErrorCode::kAlreadyExists);
}

TEST(VolumeManager, DriverOptions) {
  Fixture f;
  auto unknown = f.vm->create("v1", {}, {{"foo", "bar"}}, false);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(unknown.error().message, "create v1: invalid option: \"foo\"");
  auto missing = f.vm->create("v1", {}, {{"type", "tmpfs"}}, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "create v1: missing required option: \"device\"");
  auto size = f.vm->create("v1", {}, {{"size", "10m"}}, false);
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(f.vm->get("v1"));
  EXPECT_TRUE(f.vm->list().empty());

  std::map<std::string, std::string> tmpfs{
      {"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m"}};
  auto ok = f.vm->create("v1", {}, tmpfs, false);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->options, tmpfs);
  // Created, not mounted: that happens at a container start.
  EXPECT_TRUE(mounts_below(f.tmp.path().string()).empty());
}

TEST(VolumeManager, AnonymousVolumesCarryTheLabel) {
  Fixture f;
  auto v = f.vm->create("", {{"x", "y"}}, {}, true);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->anonymous);
  EXPECT_EQ(v->labels,
            (std::map<std::string, std::string>{{"com.docker.volume.anonymous", ""}, {"x", "y"}}));
}

TEST(VolumeManager, InUseVolumesAreNotRemoved) {
  Fixture f;
  ASSERT_TRUE(f.vm->create("capvol2", {}, {}, false));
  f.vm->add_user("capvol2", "ef922e529150");
  f.vm->add_user("capvol2", "0a1b2c3d4e5f");
  f.vm->add_user("capvol2", "ef922e529150");
  f.vm->add_user("nosuch", "ef922e529150");  // ignored
  EXPECT_EQ(f.vm->users("capvol2"), (std::vector<std::string>{"0a1b2c3d4e5f", "ef922e529150"}));
  EXPECT_TRUE(f.vm->users("nosuch").empty());
  for (bool force : {false, true}) {
    auto st = f.vm->remove("capvol2", force);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(st.error().message, "remove capvol2: volume is in use - [0a1b2c3d4e5f ef922e529150]");
  }
  f.vm->remove_user("capvol2", "ef922e529150");
  f.vm->remove_user("capvol2", "0a1b2c3d4e5f");
  EXPECT_TRUE(f.vm->remove("capvol2", false));
}

TEST(VolumeManager, PruneAnonymousOnlyUnlessAll) {
  Fixture f;
  auto named = f.vm->create("named", {{"team", "a"}}, {}, false);
  auto anon_used = f.vm->create("", {}, {}, true);
  auto anon_free = f.vm->create("", {}, {}, true);
  ASSERT_TRUE(named && anon_used && anon_free);
  f.vm->add_user(anon_used->name, "c1");
  write_file(anon_free->mountpoint + "/five", "12345");
  write_file(named->mountpoint + "/three", "123");

  auto pruned = f.vm->prune({}, false);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(pruned->deleted, (std::vector<std::string>{anon_free->name}));
  EXPECT_EQ(pruned->reclaimed, 5);
  EXPECT_EQ(event_actions(f.events, anon_free->name),
            (std::vector<std::string>{"create", "destroy"}));

  auto nothing = f.vm->prune({}, false);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->deleted.empty());
  EXPECT_EQ(nothing->reclaimed, 0);

  // all=true as a filter (API >= 1.42) or as the parameter (older API) reaches named ones.
  auto all = f.vm->prune({{"all", {"true"}}}, false);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->deleted, (std::vector<std::string>{"named"}));
  EXPECT_EQ(all->reclaimed, 3);
  EXPECT_EQ(names(f.vm->list()), (std::vector<std::string>{anon_used->name}));
}

TEST(VolumeManager, PruneFilters) {
  Fixture f;
  ASSERT_TRUE(f.vm->create("ab", {{"team", "a"}, {"keep", ""}}, {}, false));
  ASSERT_TRUE(f.vm->create("bb", {{"team", "b"}}, {}, false));
  ASSERT_TRUE(f.vm->create("cc", {}, {}, false));

  auto bad = f.vm->prune({{"dangling", {"true"}}}, true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid filter 'dangling'");
  auto bad_all = f.vm->prune({{"all", {"maybe"}}}, true);
  ASSERT_FALSE(bad_all);
  EXPECT_EQ(bad_all.error().code, ErrorCode::kInvalidArgument);

  auto by_value = f.vm->prune({{"label", {"team=b"}}}, true);
  ASSERT_TRUE(by_value);
  EXPECT_EQ(by_value->deleted, (std::vector<std::string>{"bb"}));
  auto not_keep = f.vm->prune({{"label!", {"keep"}}}, true);
  ASSERT_TRUE(not_keep);
  EXPECT_EQ(not_keep->deleted, (std::vector<std::string>{"cc"}));
  auto by_key = f.vm->prune({{"label", {"team"}}}, true);
  ASSERT_TRUE(by_key);
  EXPECT_EQ(by_key->deleted, (std::vector<std::string>{"ab"}));
}

TEST(VolumeManager, SizeCountsHardLinksOnce) {
  Fixture f;
  auto v = f.vm->create("sized", {}, {}, false);
  ASSERT_TRUE(v);
  write_file(v->mountpoint + "/a", std::string(1000, 'a'));
  write_file(v->mountpoint + "/d/b", std::string(24, 'b'));
  ASSERT_EQ(::link((v->mountpoint + "/a").c_str(), (v->mountpoint + "/d/a2").c_str()), 0);
  ASSERT_EQ(::symlink("a", (v->mountpoint + "/l").c_str()), 0);  // counts 1, like dockerd
  auto size = f.vm->size("sized");
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 1000 + 24 + 1);
  EXPECT_FALSE(f.vm->size("nosuch"));
}

TEST(VolumeManager, PersistsAcrossReopen) {
  Fixture f;
  std::map<std::string, std::string> opts{{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m"}};
  auto v = f.vm->create("kept", {{"a", "b"}}, opts, false);
  auto anon = f.vm->create("", {}, {}, true);
  ASSERT_TRUE(v && anon);
  write_file(v->mountpoint + "/file", "x");
  // What an interrupted create or remove leaves behind, and a directory made by hand.
  stdfs::create_directories(f.dir + "/.creating-0123/_data");
  stdfs::create_directories(f.dir + "/.removing-old-4567/_data/deep");
  stdfs::create_directories(f.dir + "/handmade/_data");
  write_file(f.dir + "/metadata.db", "not a volume");

  f.reopen();
  auto again = f.vm->get("kept");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->labels, v->labels);
  EXPECT_EQ(again->options, opts);
  EXPECT_EQ(again->created_at, v->created_at);
  EXPECT_EQ(again->mountpoint, v->mountpoint);
  EXPECT_EQ(read_file(again->mountpoint + "/file"), "x");
  auto a = f.vm->get(anon->name);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->anonymous);
  EXPECT_TRUE(a->labels.contains("com.docker.volume.anonymous"));
  auto hand = f.vm->get("handmade");
  ASSERT_TRUE(hand);
  EXPECT_TRUE(hand->labels.empty());
  EXPECT_EQ(f.vm->list().size(), 3u);
  EXPECT_FALSE(stdfs::exists(f.dir + "/.creating-0123"));
  EXPECT_FALSE(stdfs::exists(f.dir + "/.removing-old-4567"));
  // Users are not persisted: the container manager registers them again at start.
  EXPECT_TRUE(f.vm->users("kept").empty());
}

// --- copy-up ---------------------------------------------------------------------------------

// An image directory with everything a copy-up must keep.
void make_source(const stdfs::path& src) {
  stdfs::create_directories(src / "sub/deeper");
  write_file(src / "plain", "plain content");
  write_file(src / "sub/owned", "owned");
  write_file(src / "sub/deeper/setuid", "#!/bin/sh\n");
  ASSERT_EQ(::chown((src / "sub").c_str(), 1000, 1001), 0);
  ASSERT_EQ(::chmod((src / "sub").c_str(), 0750), 0);
  ASSERT_EQ(::chown((src / "sub/owned").c_str(), 1002, 1003), 0);
  ASSERT_EQ(::chmod((src / "sub/owned").c_str(), 0640), 0);
  ASSERT_EQ(::chmod((src / "sub/deeper/setuid").c_str(), 04755), 0);
  ASSERT_EQ(::symlink("plain", (src / "rel-link").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (src / "abs-link").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../etc", (src / "sub/escape").c_str()), 0);
  ASSERT_EQ(::lchown((src / "rel-link").c_str(), 7, 8), 0);
  ASSERT_EQ(::link((src / "plain").c_str(), (src / "sub/hard").c_str()), 0);
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0620), 0);
  ASSERT_EQ(::mknod((src / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::setxattr((src / "plain").c_str(), "user.origin", "image", 5, 0), 0);
  struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src / "sub/deeper").c_str(), ts, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, (src / "rel-link").c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
  ASSERT_EQ(::chown(src.c_str(), 999, 998), 0);
  ASSERT_EQ(::chmod(src.c_str(), 0700), 0);
}

TEST(VolumeManager, CopyUpKeepsEverything) {
  BERTH_REQUIRE_ROOT("chown, mknod");
  Fixture f;
  auto src = f.tmp.path() / "image/var/lib/data";
  make_source(src);
  auto v = f.vm->create("data", {}, {}, false);
  ASSERT_TRUE(v);
  ASSERT_TRUE(f.vm->copy_up("data", src.string())) << "copy up";

  auto expected = lexical_snapshot(src, true);
  auto actual = lexical_snapshot(v->mountpoint, true);
  ASSERT_EQ(expected.size(), 11u);
  layer::testing::expect_same_tree(expected, actual);
  // Links are links, never followed: the outside targets were not copied.
  EXPECT_EQ(stdfs::read_symlink(v->mountpoint + "/abs-link"), "/etc/passwd");
  EXPECT_EQ(stdfs::read_symlink(v->mountpoint + "/sub/escape"), "../../../../../../etc");
  EXPECT_EQ(lstat_of(v->mountpoint + "/plain").st_ino,
            lstat_of(v->mountpoint + "/sub/hard").st_ino);
  EXPECT_EQ(layer::testing::get_xattr(v->mountpoint + "/plain", "user.origin"), "image");
  // The volume root takes the owner and mode of the image directory (dockerd's copyOwnership).
  struct stat root = lstat_of(v->mountpoint);
  EXPECT_EQ(root.st_uid, 999u);
  EXPECT_EQ(root.st_gid, 998u);
  EXPECT_EQ(root.st_mode & 07777, 0700u);
}

TEST(VolumeManager, CopyUpOnlyIntoAnEmptyVolume) {
  Fixture f;
  auto src = f.tmp.path() / "image";
  write_file(src / "from-image", "image");
  auto v = f.vm->create("busy", {}, {}, false);
  ASSERT_TRUE(v);
  write_file(v->mountpoint + "/mine", "volume");
  ASSERT_TRUE(f.vm->copy_up("busy", src.string()));
  EXPECT_FALSE(stdfs::exists(v->mountpoint + "/from-image"));
  EXPECT_EQ(read_file(v->mountpoint + "/mine"), "volume");
  // A missing source (the image has nothing there) is no error.
  auto empty = f.vm->create("empty", {}, {}, false);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(f.vm->copy_up("empty", (f.tmp.path() / "nothing").string()));
  EXPECT_TRUE(stdfs::is_empty(empty->mountpoint));
  EXPECT_FALSE(f.vm->copy_up("nosuch", src.string()));
}

TEST(VolumeManager, CopyUpResolvesTheMountPointInsideTheRootfs) {
  Fixture f;
  auto rootfs = f.tmp.path() / "rootfs";
  write_file(rootfs / "real/data/file", "in rootfs");
  // /data -> /real/data inside the rootfs; /host -> a host directory path that must not be read.
  ASSERT_EQ(::symlink("/real/data", (rootfs / "data").c_str()), 0);
  write_file(f.tmp.path() / "hostdir/secret", "host");
  ASSERT_EQ(::symlink((f.tmp.path() / "hostdir").c_str(), (rootfs / "host").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../..", (rootfs / "up").c_str()), 0);

  auto v = f.vm->create("viaroot", {}, {}, false);
  ASSERT_TRUE(v);
  ASSERT_TRUE(f.vm->copy_up("viaroot", rootfs.string(), "/data"));
  EXPECT_EQ(read_file(v->mountpoint + "/file"), "in rootfs");

  auto h = f.vm->create("viahost", {}, {}, false);
  ASSERT_TRUE(h);
  ASSERT_TRUE(f.vm->copy_up("viahost", rootfs.string(), "/host"));
  EXPECT_TRUE(stdfs::is_empty(h->mountpoint));
  // ".." through a symlink stops at the rootfs: "/up/real/data" is /real/data of the rootfs.
  auto u = f.vm->create("viaup", {}, {}, false);
  ASSERT_TRUE(u);
  ASSERT_TRUE(f.vm->copy_up("viaup", rootfs.string(), "/up/real/data"));
  EXPECT_EQ(read_file(u->mountpoint + "/file"), "in rootfs");
}

// --- mounts ----------------------------------------------------------------------------------

TEST(VolumeManager, TmpfsVolumeIsMountedAndUnmountedByReference) {
  BERTH_REQUIRE_ROOT("mount(2)");
  Fixture f;
  auto v = f.vm->create(
      "tmp", {}, {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m,mode=0711"}}, false);
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_TRUE(f.vm->mount("tmp")) << "first mount";
  EXPECT_TRUE(is_mount_point(v->mountpoint));
  EXPECT_EQ(lstat_of(v->mountpoint).st_mode & 07777, 0711u);  // data options reached tmpfs
  write_file(v->mountpoint + "/on-tmpfs", "x");
  ASSERT_TRUE(f.vm->mount("tmp"));  // a second container
  EXPECT_EQ(mounts_below(f.tmp.path().string()).size(), 1u);

  // Mounted (count > 0) counts as in use even without registered users.
  EXPECT_FALSE(f.vm->remove("tmp", false));
  ASSERT_TRUE(f.vm->unmount("tmp"));
  EXPECT_TRUE(is_mount_point(v->mountpoint));
  ASSERT_TRUE(f.vm->unmount("tmp"));
  EXPECT_FALSE(is_mount_point(v->mountpoint));
  EXPECT_FALSE(stdfs::exists(v->mountpoint + "/on-tmpfs"));  // it lived on the tmpfs
  EXPECT_TRUE(f.vm->unmount("tmp"));                         // extra unmount: harmless

  // A failing mount leaves nothing mounted and the count untouched.
  auto bad = f.vm->create("badfs", {}, {{"type", "nosuchfs"}, {"device", "x"}}, false);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(f.vm->mount("badfs"));
  EXPECT_TRUE(f.vm->remove("badfs", false));
  EXPECT_TRUE(f.vm->remove("tmp", false));
  EXPECT_TRUE(mounts_below(f.tmp.path().string()).empty());
}

TEST(VolumeManager, BindVolumeCopyUpLandsOnTheBoundDirectory) {
  BERTH_REQUIRE_ROOT("mount(2)");
  Fixture f;
  auto device = f.tmp.path() / "host-dir";
  stdfs::create_directories(device);
  write_file(f.tmp.path() / "image/etc/conf", "from image");
  auto v = f.vm->create("bound", {}, {{"type", "none"}, {"device", device.string()}, {"o", "bind"}},
                        false);
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_TRUE(f.vm->copy_up("bound", (f.tmp.path() / "image/etc").string()));
  // Mounted for the copy only.
  EXPECT_TRUE(mounts_below(f.tmp.path().string()).empty());
  EXPECT_EQ(read_file(device / "conf"), "from image");
  EXPECT_FALSE(stdfs::exists(v->mountpoint + "/conf"));
  ASSERT_TRUE(f.vm->mount("bound"));
  EXPECT_EQ(read_file(v->mountpoint + "/conf"), "from image");
  // Already mounted by a running container: the copy goes to the mount and it stays.
  ASSERT_TRUE(f.vm->unmount("bound"));
  EXPECT_TRUE(mounts_below(f.tmp.path().string()).empty());
  EXPECT_TRUE(f.vm->remove("bound", false));
  EXPECT_EQ(read_file(device / "conf"), "from image");  // the host directory is not the volume's
}

TEST(VolumeManager, PlainVolumeMountIsCountedButMountsNothing) {
  Fixture f;
  ASSERT_TRUE(f.vm->create("plain", {}, {}, false));
  ASSERT_TRUE(f.vm->mount("plain"));
  EXPECT_TRUE(mounts_below(f.tmp.path().string()).empty());
  EXPECT_FALSE(f.vm->remove("plain", false));
  ASSERT_TRUE(f.vm->unmount("plain"));
  EXPECT_TRUE(f.vm->remove("plain", false));
  EXPECT_FALSE(f.vm->mount("plain"));
}

TEST(VolumeManager, MountSurvivingARestartIsTakenDownByRemove) {
  BERTH_REQUIRE_ROOT("mount(2)");
  Fixture f;
  ASSERT_TRUE(f.vm->create("live", {}, {{"type", "tmpfs"}, {"device", "tmpfs"}}, false));
  ASSERT_TRUE(f.vm->mount("live"));
  f.reopen();  // the daemon restarted; a container may still be using it
  auto v = f.vm->get("live");
  ASSERT_TRUE(v);
  EXPECT_TRUE(is_mount_point(v->mountpoint));
  // The container manager re-registers the running container: no second mount.
  ASSERT_TRUE(f.vm->mount("live"));
  EXPECT_EQ(mounts_below(f.tmp.path().string()).size(), 1u);
  ASSERT_TRUE(f.vm->unmount("live"));
  EXPECT_FALSE(is_mount_point(v->mountpoint));
  ASSERT_TRUE(f.vm->mount("live"));
  f.reopen();
  // Nobody came back for it: remove unmounts it.
  EXPECT_TRUE(f.vm->remove("live", false));
  EXPECT_TRUE(mounts_below(f.tmp.path().string()).empty());
  EXPECT_FALSE(stdfs::exists(f.dir + "/live"));
}

TEST(VolumeManager, ConcurrentCallsAreSafe) {
  Fixture f;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string name = "v" + std::to_string(i);  // the threads fight over the same names
        if (f.vm->create(name, {}, {}, false)) ++created;
        f.vm->add_user(name, "c" + std::to_string(t));
        (void)f.vm->list();
        (void)f.vm->size(name);
        f.vm->remove_user(name, "c" + std::to_string(t));
        (void)f.vm->remove(name, false);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 100);
  for (const auto& v : f.vm->list()) EXPECT_TRUE(f.vm->remove(v.name, false));
  for (const auto& entry : stdfs::directory_iterator(f.dir)) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace berth::core::volume
