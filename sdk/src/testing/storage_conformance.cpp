// The storage driver conformance suite (see testing/storage_conformance.hpp). Modelled on
// containerd's core/snapshots/testsuite: every case drives the snapshot state machine through the
// StorageDriver interface and checks the result on real mounts.
// Over 600 lines on purpose: it is one suite's list of cases, each a short self-contained function
// read top to bottom (as containerd's testsuite); its shared helpers are in fs.cpp.
#include "berth/sdk/testing/storage_conformance.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "berth/sdk/mount.hpp"
#include "berth/sdk/testing/fs.hpp"
#include "case_table.hpp"

namespace berth::sdk::testing {
namespace {

namespace fs = std::filesystem;

// ---- assertions -----------------------------------------------------------------------------

#define BERTH_CAT_(a, b) a##b
#define BERTH_CAT(a, b) BERTH_CAT_(a, b)

// Both accept a streamed message, like GoogleTest's own assertions (the switch blocks a dangling
// else, as GoogleTest does).
#define ASSERT_OK(expr)                                        \
  switch (0)                                                   \
  case 0:                                                      \
  default:                                                     \
    if (const auto& berth_r_ = (expr); berth_r_.has_value()) { \
    } else                                                     \
      FAIL() << #expr << ": " << berth_r_.error().message << " "

#define EXPECT_OK(expr)                                        \
  switch (0)                                                   \
  case 0:                                                      \
  default:                                                     \
    if (const auto& berth_r_ = (expr); berth_r_.has_value()) { \
    } else                                                     \
      ADD_FAILURE() << #expr << ": " << berth_r_.error().message << " "

#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                       \
  auto tmp = (expr);                                                    \
  ASSERT_TRUE(tmp.has_value()) << #expr << ": " << tmp.error().message; \
  lhs = std::move(*tmp)

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(BERTH_CAT(berth_result_, __LINE__), lhs, expr)

// The code names are compared so a mismatch reads "not found" vs "already exists".
#define EXPECT_ERROR_CODE(expr, expected)                                                   \
  do {                                                                                      \
    auto&& berth_r_ = (expr);                                                               \
    if (berth_r_.has_value()) {                                                             \
      ADD_FAILURE() << #expr << " succeeded; expected " << error_code_name(expected);       \
    } else {                                                                                \
      EXPECT_EQ(error_code_name(berth_r_.error().code), error_code_name(expected))          \
          << #expr << ": " << berth_r_.error().message;                                     \
      EXPECT_FALSE(berth_r_.error().message.empty()) << #expr << ": error without message"; \
    }                                                                                       \
  } while (0)

// ---- the fixture --------------------------------------------------------------------------

class Harness;
using CaseFn = void (*)(Harness&);

struct Registration {
  StorageFixtureFactory factory;
};

class Harness : public ::testing::Test {
 public:
  Harness(std::shared_ptr<const Registration> registration, CaseFn fn)
      : registration_(std::move(registration)), fn_(fn) {}

  StorageDriver& driver() { return *driver_; }
  Context& ctx() { return ctx_; }
  const StorageFixture& fixture() const { return fixture_; }
  const std::string& temp_path() const { return temp_.path(); }

  // Destroys the driver and creates another on the same directories (a daemon restart).
  Status recreate() {
    driver_.reset();
    auto created = fixture_.create(dirs_);
    if (!created) return std::move(created).error().wrap("re-create driver");
    if (!*created) return make_error(ErrorCode::kInternal, "re-create driver: returned null");
    driver_ = std::move(*created);
    return {};
  }

  // A fresh, empty directory to mount on.
  Result<std::string> new_mount_point() {
    std::string dir = temp_.sub("mnt/" + std::to_string(next_mount_++));
    if (::mkdir(dir.c_str(), 0755) != 0) return errno_error("create mount point " + dir);
    return dir;
  }

  Result<ScopedMounts> mount(const std::vector<Mount>& mounts) {
    auto dir = new_mount_point();
    if (!dir) return std::move(dir).error();
    return ScopedMounts::mount(mounts, *dir);
  }

  Result<ScopedMounts> mount_key(std::string_view key) {
    auto mounts = driver_->mounts(ctx_, key);
    if (!mounts) return std::move(mounts).error().wrap("mounts of " + std::string(key));
    return mount(*mounts);
  }

  // prepare + mount + edit + unmount + commit: one committed layer.
  Status commit_layer(std::string_view name, std::string_view parent,
                      const std::function<Status(const std::string& root)>& edit,
                      const Labels& labels = {}) {
    const std::string key = "active-for-" + std::string(name);
    auto mounts = driver_->prepare(ctx_, key, parent, {});
    if (!mounts) return std::move(mounts).error().wrap("prepare " + key);
    {
      auto mounted = mount(*mounts);
      if (!mounted) return std::move(mounted).error();
      if (edit) BERTH_TRY_STATUS(edit(mounted->target()));
      BERTH_TRY_STATUS(mounted->unmount());
    }
    auto committed = driver_->commit(ctx_, name, key, labels);
    if (!committed) return std::move(committed).error().wrap("commit " + std::string(name));
    return {};
  }

 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "the storage conformance suite needs root: it mounts snapshots";
    }
    fixture_ = registration_->factory();
    ASSERT_TRUE(static_cast<bool>(fixture_.create)) << "StorageFixture::create is not set";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (auto it = fixture_.skip.find(info->name()); it != fixture_.skip.end()) {
      GTEST_SKIP() << "skipped by the fixture: " << it->second;
    }
    ASSERT_OK_AND_ASSIGN(temp_, TempDir::create(fixture_.temp_parent, "berth-storage-conf-"));
    dirs_.root_dir = temp_.sub("root");
    dirs_.state_dir = temp_.sub("state");
    ASSERT_OK(make_dirs(dirs_.root_dir, 0700));
    ASSERT_OK(make_dirs(dirs_.state_dir, 0700));
    ASSERT_OK(make_dirs(temp_.sub("mnt")));
    auto created = fixture_.create(dirs_);
    if (!created && created.error().code == ErrorCode::kUnsupported) {
      GTEST_SKIP() << "driver unsupported here: " << created.error().message;
    }
    ASSERT_TRUE(created.has_value()) << "create driver: " << created.error().message;
    ASSERT_TRUE(*created != nullptr) << "create driver returned null";
    driver_ = std::move(*created);
  }

  void TearDown() override {
    if (!temp_.path().empty()) {
      // Every case unmounts what it mounted (RAII); anything left is a leak worth failing on.
      auto leaked = mount_points_under(temp_.path());
      if (leaked && !leaked->empty()) {
        std::string list;
        for (const auto& p : *leaked) list += "\n  " + p;
        ADD_FAILURE() << "the case left " << leaked->size() << " mount(s) behind:" << list;
        EXPECT_OK(unmount_all(temp_.path()));
      }
    }
    driver_.reset();
    EXPECT_OK(temp_.remove());
  }

  void TestBody() override { fn_(*this); }

 private:
  std::shared_ptr<const Registration> registration_;
  CaseFn fn_;
  StorageFixture fixture_;
  TempDir temp_;
  StorageDirs dirs_;
  Context ctx_{"conformance"};
  std::unique_ptr<StorageDriver> driver_;
  int next_mount_ = 0;
};

// ---- helpers ------------------------------------------------------------------------------

std::string path_in(const std::string& root, std::string_view rel) {
  return root + "/" + std::string(rel);
}

Status put(const std::string& root, std::string_view rel, std::string_view content,
           mode_t mode = 0644) {
  return write_file(path_in(root, rel), content, mode);
}

// Written and fsync'ed, so block counts are settled when usage() looks.
Status put_synced(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("open " + path);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return errno_error("write " + path, err);
    }
    done += static_cast<size_t>(n);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_error("fsync " + path, err);
  return {};
}

Status mkdir_in(const std::string& root, std::string_view rel, mode_t mode = 0755) {
  std::string p = path_in(root, rel);
  if (::mkdir(p.c_str(), mode) != 0) return errno_error("mkdir " + p);
  return {};
}

Status unlink_in(const std::string& root, std::string_view rel) {
  std::string p = path_in(root, rel);
  if (::unlink(p.c_str()) != 0) return errno_error("unlink " + p);
  return {};
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  if (ec) return make_error(ErrorCode::kInternal, "list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::string contents_or_error(const std::string& path) {
  auto r = read_file(path);
  return r ? *r : "<" + r.error().message + ">";
}

std::vector<std::string> names_of(const std::vector<SnapshotInfo>& infos) {
  std::vector<std::string> out;
  for (const auto& i : infos) out.push_back(i.name);
  std::sort(out.begin(), out.end());
  return out;
}

using Names = std::vector<std::string>;

std::string pattern(size_t size, char seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(seed + (i * 7 + i / 4096) % 61);
  return data;
}

// ---- cases ----------------------------------------------------------------------------------

void info_names_driver(Harness& h) {
  DriverInfo info = h.driver().info();
  EXPECT_FALSE(info.name.empty()) << "info() must name the driver";
  for (const auto& [k, v] : info.status) EXPECT_FALSE(k.empty()) << "status entry without a key";
}

void prepare_returns_mounts(Harness& h) {
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "fresh", "", {}));
  ASSERT_FALSE(mounts.empty()) << "prepare returned no mounts";
  ASSERT_OK_AND_ASSIGN(auto again, h.driver().mounts(h.ctx(), "fresh"));
  EXPECT_TRUE(mounts == again) << "mounts() differs from what prepare() returned";

  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "fresh"));
  EXPECT_EQ(info.name, "fresh");
  EXPECT_EQ(info.parent, "");
  EXPECT_EQ(snapshot_kind_name(info.kind), "active");
  EXPECT_GT(info.created_unix_nano, 0);
  EXPECT_GE(info.updated_unix_nano, info.created_unix_nano);

  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
  ASSERT_OK_AND_ASSIGN(auto entries, list_dir(mounted.target()));
  EXPECT_TRUE(entries.empty()) << "a snapshot without parent starts empty, has " << entries.size()
                               << " entries";
  ASSERT_OK(put(mounted.target(), "writable", "yes"));
  ASSERT_OK(mounted.unmount());
}

void prepare_mount_write_commit(Harness& h) {
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "base-active", "", {}));
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
    ASSERT_OK(put(mounted.target(), "hello.txt", "hello"));
    ASSERT_OK(mkdir_in(mounted.target(), "dir"));
    ASSERT_OK(put(mounted.target(), "dir/nested", "nested"));
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK(h.driver().commit(h.ctx(), "base", "base-active", {{"origin", "conformance"}}));

  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "base"));
  EXPECT_EQ(info.name, "base");
  EXPECT_EQ(snapshot_kind_name(info.kind), "committed");
  EXPECT_EQ(info.parent, "");
  EXPECT_EQ(info.labels, (Labels{{"origin", "conformance"}}));
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "base-active"), ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(auto child, h.driver().prepare(h.ctx(), "child", "base", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(child));
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "hello.txt")), "hello");
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "dir/nested")), "nested");
  ASSERT_OK(mounted.unmount());
  ASSERT_OK_AND_ASSIGN(SnapshotInfo child_info, h.driver().stat(h.ctx(), "child"));
  EXPECT_EQ(child_info.parent, "base");
}

void child_sees_parent_files(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", [](const std::string& root) -> Status {
    BERTH_TRY_STATUS(put(root, "hello.txt", "hello"));
    BERTH_TRY_STATUS(put(root, "tool", "#!/bin/sh\n", 0755));
    if (::symlink("hello.txt", path_in(root, "link").c_str()) != 0) return errno_error("symlink");
    BERTH_TRY_STATUS(mkdir_in(root, "etc"));
    return put(root, "etc/config", "a=1");
  }));
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "child", "base", {}));
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
    const std::string& root = mounted.target();
    EXPECT_EQ(contents_or_error(path_in(root, "hello.txt")), "hello");
    EXPECT_EQ(contents_or_error(path_in(root, "etc/config")), "a=1");
    EXPECT_EQ(contents_or_error(path_in(root, "link")), "hello");
    struct stat st {};
    ASSERT_EQ(::stat(path_in(root, "tool").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    // Changes in the child stay in the child.
    ASSERT_OK(put(root, "hello.txt", "changed"));
    ASSERT_OK(put(root, "child-only", "c"));
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK_AND_ASSIGN(auto view, h.driver().view(h.ctx(), "base-view", "base", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(view));
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "hello.txt")), "hello");
  EXPECT_FALSE(exists(path_in(mounted.target(), "child-only")));
  ASSERT_OK(mounted.unmount());
}

void deletion_in_child_hides_parent_file(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", [](const std::string& root) -> Status {
    BERTH_TRY_STATUS(put(root, "a", "a"));
    BERTH_TRY_STATUS(put(root, "b", "b"));
    BERTH_TRY_STATUS(mkdir_in(root, "dir"));
    return put(root, "dir/x", "x");
  }));
  ASSERT_OK(h.commit_layer("child", "base", [](const std::string& root) -> Status {
    BERTH_TRY_STATUS(unlink_in(root, "a"));
    return remove_tree(path_in(root, "dir"));
  }));
  {
    ASSERT_OK_AND_ASSIGN(auto view, h.driver().view(h.ctx(), "child-view", "child", {}));
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(view));
    ASSERT_OK_AND_ASSIGN(auto entries, list_dir(mounted.target()));
    EXPECT_EQ(entries, (Names{"b"}));
    ASSERT_OK(mounted.unmount());
  }
  {
    // The deletion holds through one more layer.
    ASSERT_OK_AND_ASSIGN(auto top, h.driver().prepare(h.ctx(), "top", "child", {}));
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(top));
    EXPECT_FALSE(exists(path_in(mounted.target(), "a")));
    EXPECT_FALSE(exists(path_in(mounted.target(), "dir")));
    // Re-creating a deleted name works and shows the new content only.
    ASSERT_OK(put(mounted.target(), "a", "again"));
    EXPECT_EQ(contents_or_error(path_in(mounted.target(), "a")), "again");
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK_AND_ASSIGN(auto base_view, h.driver().view(h.ctx(), "base-view", "base", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(base_view));
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "a")), "a");
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "dir/x")), "x");
  ASSERT_OK(mounted.unmount());
}

void opaque_directory_replaces_parent_content(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", [](const std::string& root) -> Status {
    BERTH_TRY_STATUS(mkdir_in(root, "dir"));
    BERTH_TRY_STATUS(put(root, "dir/old1", "1"));
    return put(root, "dir/old2", "2");
  }));
  ASSERT_OK(h.commit_layer("child", "base", [](const std::string& root) -> Status {
    BERTH_TRY_STATUS(remove_tree(path_in(root, "dir")));
    BERTH_TRY_STATUS(mkdir_in(root, "dir"));
    return put(root, "dir/new", "n");
  }));
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "top", "child", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
  ASSERT_OK_AND_ASSIGN(auto entries, list_dir(path_in(mounted.target(), "dir")));
  EXPECT_EQ(entries, (Names{"new"}));
  ASSERT_OK(mounted.unmount());
}

void expect_read_only(const std::string& root, const std::string& existing) {
  EXPECT_FALSE(put(root, "new-file", "x").has_value()) << "created a file in a view";
  EXPECT_FALSE(put(root, existing, "x").has_value()) << "modified a file in a view";
  EXPECT_NE(::mkdir(path_in(root, "new-dir").c_str(), 0755), 0) << "created a directory";
  EXPECT_NE(::unlink(path_in(root, existing).c_str()), 0) << "removed a file in a view";
}

void view_is_read_only(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "",
                           [](const std::string& root) { return put(root, "f", "content"); }));
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().view(h.ctx(), "v", "base", {{"k", "v"}}));
  ASSERT_FALSE(mounts.empty());
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "v"));
  EXPECT_EQ(snapshot_kind_name(info.kind), "view");
  EXPECT_EQ(info.parent, "base");
  EXPECT_EQ(info.labels, (Labels{{"k", "v"}}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "f")), "content");
  expect_read_only(mounted.target(), "f");
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "f")), "content");
  ASSERT_OK(mounted.unmount());
}

void view_of_layer_chain_is_read_only(Harness& h) {
  ASSERT_OK(h.commit_layer("l1", "", [](const std::string& root) { return put(root, "f1", "1"); }));
  ASSERT_OK(
      h.commit_layer("l2", "l1", [](const std::string& root) { return put(root, "f2", "2"); }));
  ASSERT_OK(
      h.commit_layer("l3", "l2", [](const std::string& root) { return put(root, "f3", "3"); }));
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().view(h.ctx(), "v", "l3", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
  ASSERT_OK_AND_ASSIGN(auto entries, list_dir(mounted.target()));
  EXPECT_EQ(entries, (Names{"f1", "f2", "f3"}));
  expect_read_only(mounted.target(), "f1");
  ASSERT_OK(mounted.unmount());
}

void commit_of_view_refused(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().view(h.ctx(), "v", "base", {}));
  (void)mounts;
  EXPECT_ERROR_CODE(h.driver().commit(h.ctx(), "from-view", "v", {}),
                    ErrorCode::kFailedPrecondition);
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "from-view"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "v"));
  EXPECT_EQ(snapshot_kind_name(info.kind), "view");
}

void commit_of_committed_refused(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  EXPECT_ERROR_CODE(h.driver().commit(h.ctx(), "again", "base", {}),
                    ErrorCode::kFailedPrecondition);
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "again"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "base"));
  EXPECT_EQ(snapshot_kind_name(info.kind), "committed");
}

void commit_to_existing_name_refused(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "work", "", {}));
  (void)mounts;
  EXPECT_ERROR_CODE(h.driver().commit(h.ctx(), "base", "work", {}), ErrorCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "work"));
  EXPECT_EQ(snapshot_kind_name(info.kind), "active") << "a refused commit must change nothing";
  ASSERT_OK(h.driver().commit(h.ctx(), "other", "work", {}));
}

void remove_with_children_refused(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  ASSERT_OK(h.commit_layer("mid", "base", nullptr));
  ASSERT_OK_AND_ASSIGN(auto active, h.driver().prepare(h.ctx(), "active", "mid", {}));
  ASSERT_OK_AND_ASSIGN(auto view, h.driver().view(h.ctx(), "view", "base", {}));
  (void)active;
  (void)view;
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "base"), ErrorCode::kFailedPrecondition);
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "mid"), ErrorCode::kFailedPrecondition);
  ASSERT_OK(h.driver().remove(h.ctx(), "active"));
  ASSERT_OK(h.driver().remove(h.ctx(), "mid"));
  // The view still holds base.
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "base"), ErrorCode::kFailedPrecondition);
  ASSERT_OK(h.driver().remove(h.ctx(), "view"));
  ASSERT_OK(h.driver().remove(h.ctx(), "base"));
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "base"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, h.driver().walk(h.ctx(), {}));
  EXPECT_TRUE(all.empty());
}

void remove_then_prepare_again(Harness& h) {
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "k", "", {}));
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
    ASSERT_OK(put(mounted.target(), "stale", "x"));
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK(h.driver().remove(h.ctx(), "k"));
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "k"), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().mounts(h.ctx(), "k"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto again, h.driver().prepare(h.ctx(), "k", "", {}));
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(again));
    ASSERT_OK_AND_ASSIGN(auto entries, list_dir(mounted.target()));
    EXPECT_TRUE(entries.empty()) << "a re-prepared key must not see the removed snapshot's files";
    ASSERT_OK(mounted.unmount());
  }
  // Same for a committed name.
  ASSERT_OK(h.driver().commit(h.ctx(), "layer", "k", {}));
  ASSERT_OK(h.driver().remove(h.ctx(), "layer"));
  ASSERT_OK(
      h.commit_layer("layer", "", [](const std::string& root) { return put(root, "n", "1"); }));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "layer"));
  EXPECT_EQ(snapshot_kind_name(info.kind), "committed");
}

void remove_unknown_refused(Harness& h) {
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "does-not-exist"), ErrorCode::kNotFound);
}

void unknown_key_not_found(Harness& h) {
  const std::string key = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), key), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().mounts(h.ctx(), key), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().usage(h.ctx(), key), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().update_labels(h.ctx(), key, {{"a", "b"}}), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().commit(h.ctx(), "name", key, {}), ErrorCode::kNotFound);
  auto stat = h.driver().stat(h.ctx(), key);
  if (!stat) {
    EXPECT_NE(stat.error().message.find(key), std::string::npos)
        << "the error should name the snapshot: " << stat.error().message;
  }
}

void unknown_parent_refused(Harness& h) {
  EXPECT_ERROR_CODE(h.driver().prepare(h.ctx(), "k", "missing-parent", {}), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().view(h.ctx(), "v", "missing-parent", {}), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "k"), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "v"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, h.driver().walk(h.ctx(), {}));
  EXPECT_TRUE(all.empty()) << "a refused prepare must leave nothing behind";
}

void parent_not_committed_refused(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  ASSERT_OK_AND_ASSIGN(auto active, h.driver().prepare(h.ctx(), "active", "base", {}));
  ASSERT_OK_AND_ASSIGN(auto view, h.driver().view(h.ctx(), "view", "base", {}));
  (void)active;
  (void)view;
  EXPECT_ERROR_CODE(h.driver().prepare(h.ctx(), "on-active", "active", {}),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(h.driver().prepare(h.ctx(), "on-view", "view", {}),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(h.driver().view(h.ctx(), "view-on-active", "active", {}),
                    ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "on-active"), ErrorCode::kNotFound);
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "on-view"), ErrorCode::kNotFound);
}

void duplicate_key_refused(Harness& h) {
  ASSERT_OK_AND_ASSIGN(auto first, h.driver().prepare(h.ctx(), "k", "", {{"first", "1"}}));
  EXPECT_ERROR_CODE(h.driver().prepare(h.ctx(), "k", "", {}), ErrorCode::kAlreadyExists);
  EXPECT_ERROR_CODE(h.driver().view(h.ctx(), "k", "", {}), ErrorCode::kAlreadyExists);
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  EXPECT_ERROR_CODE(h.driver().prepare(h.ctx(), "base", "", {}), ErrorCode::kAlreadyExists);
  EXPECT_ERROR_CODE(h.driver().view(h.ctx(), "base", "base", {}), ErrorCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), "k"));
  EXPECT_EQ(info.labels, (Labels{{"first", "1"}})) << "a refused prepare must not touch the first";
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().mounts(h.ctx(), "k"));
  EXPECT_TRUE(mounts == first);
}

void empty_key_refused(Harness& h) {
  EXPECT_ERROR_CODE(h.driver().prepare(h.ctx(), "", "", {}), ErrorCode::kInvalidArgument);
  EXPECT_ERROR_CODE(h.driver().view(h.ctx(), "", "", {}), ErrorCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "k", "", {}));
  (void)mounts;
  EXPECT_ERROR_CODE(h.driver().commit(h.ctx(), "", "k", {}), ErrorCode::kInvalidArgument);
}

void mounts_of_committed_refused(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  EXPECT_ERROR_CODE(h.driver().mounts(h.ctx(), "base"), ErrorCode::kFailedPrecondition);
}

void walk_with_filters(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  ASSERT_OK(h.commit_layer("mid", "base", nullptr));
  ASSERT_OK(h.driver().prepare(h.ctx(), "a1", "mid", {}));
  ASSERT_OK(h.driver().prepare(h.ctx(), "a2", "base", {}));
  ASSERT_OK(h.driver().prepare(h.ctx(), "lone", "", {}));
  ASSERT_OK(h.driver().view(h.ctx(), "v1", "mid", {}));

  auto walk = [&](WalkFilter f) -> Names {
    auto r = h.driver().walk(h.ctx(), f);
    EXPECT_TRUE(r.has_value()) << "walk: " << (r ? "" : r.error().message);
    return r ? names_of(*r) : Names{};
  };
  EXPECT_EQ(walk({}), (Names{"a1", "a2", "base", "lone", "mid", "v1"}));
  EXPECT_EQ(walk({"mid", std::nullopt}), (Names{"a1", "v1"}));
  EXPECT_EQ(walk({"base", std::nullopt}), (Names{"a2", "mid"}));
  EXPECT_EQ(walk({"", SnapshotKind::kCommitted}), (Names{"base", "mid"}));
  EXPECT_EQ(walk({"", SnapshotKind::kActive}), (Names{"a1", "a2", "lone"}));
  EXPECT_EQ(walk({"", SnapshotKind::kView}), (Names{"v1"}));
  EXPECT_EQ(walk({"mid", SnapshotKind::kView}), (Names{"v1"}));
  EXPECT_EQ(walk({"base", SnapshotKind::kView}), Names{});
  EXPECT_EQ(walk({"no-such-parent", std::nullopt}), Names{});

  // What walk reports agrees with stat.
  ASSERT_OK_AND_ASSIGN(auto all, h.driver().walk(h.ctx(), {}));
  for (const auto& info : all) {
    ASSERT_OK_AND_ASSIGN(SnapshotInfo s, h.driver().stat(h.ctx(), info.name));
    EXPECT_EQ(s.parent, info.parent) << info.name;
    EXPECT_EQ(s.kind, info.kind) << info.name;
    EXPECT_EQ(s.labels, info.labels) << info.name;
  }
}

void labels_update_and_persist(Harness& h) {
  ASSERT_OK(h.driver().prepare(h.ctx(), "k", "", {{"a", "1"}, {"b", "2"}}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo before, h.driver().stat(h.ctx(), "k"));
  EXPECT_EQ(before.labels, (Labels{{"a", "1"}, {"b", "2"}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo updated,
                       h.driver().update_labels(h.ctx(), "k", {{"c", "3"}, {"empty", ""}}));
  EXPECT_EQ(updated.labels, (Labels{{"c", "3"}, {"empty", ""}})) << "labels are replaced";
  EXPECT_EQ(updated.created_unix_nano, before.created_unix_nano);
  EXPECT_GT(updated.updated_unix_nano, before.updated_unix_nano);
  ASSERT_OK_AND_ASSIGN(SnapshotInfo stat, h.driver().stat(h.ctx(), "k"));
  EXPECT_EQ(stat.labels, updated.labels);
  ASSERT_OK_AND_ASSIGN(SnapshotInfo cleared, h.driver().update_labels(h.ctx(), "k", {}));
  EXPECT_TRUE(cleared.labels.empty());

  ASSERT_OK(h.driver().commit(h.ctx(), "n", "k", {{"x", "y"}}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo committed, h.driver().stat(h.ctx(), "n"));
  EXPECT_EQ(committed.labels, (Labels{{"x", "y"}}));
  ASSERT_OK(h.driver().update_labels(h.ctx(), "n", {{"gc.root", "true"}}));
  ASSERT_OK(h.recreate());
  ASSERT_OK_AND_ASSIGN(SnapshotInfo reloaded, h.driver().stat(h.ctx(), "n"));
  EXPECT_EQ(reloaded.labels, (Labels{{"gc.root", "true"}}));
}

void usage_counts_known_file(Harness& h) {
  constexpr int64_t kSize = 1 << 20;
  ASSERT_OK_AND_ASSIGN(auto empty_mounts, h.driver().prepare(h.ctx(), "empty", "", {}));
  (void)empty_mounts;
  ASSERT_OK_AND_ASSIGN(Usage empty, h.driver().usage(h.ctx(), "empty"));
  EXPECT_LT(empty.size, kSize);
  EXPECT_GE(empty.inodes, 0);

  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "k", "", {}));
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
    ASSERT_OK(put_synced(path_in(mounted.target(), "big"), pattern(kSize, 'a')));
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK_AND_ASSIGN(Usage used, h.driver().usage(h.ctx(), "k"));
  EXPECT_GE(used.size, kSize);
  EXPECT_LT(used.size, kSize + kSize / 2) << "usage counts far more than was written";
  EXPECT_GE(used.inodes, 1);
  EXPECT_GT(used.inodes, empty.inodes);

  ASSERT_OK(h.driver().commit(h.ctx(), "n", "k", {}));
  ASSERT_OK_AND_ASSIGN(Usage committed, h.driver().usage(h.ctx(), "n"));
  EXPECT_GE(committed.size, kSize);
  // A child's usage is its own changes only.
  ASSERT_OK(h.driver().prepare(h.ctx(), "child", "n", {}));
  ASSERT_OK_AND_ASSIGN(Usage child, h.driver().usage(h.ctx(), "child"));
  EXPECT_LT(child.size, kSize) << "usage must exclude the parents";
}

void usage_counts_hard_links_once(Harness& h) {
  constexpr int64_t kSize = 1 << 20;
  ASSERT_OK(h.commit_layer("single", "", [](const std::string& root) {
    return put_synced(path_in(root, "big"), pattern(kSize, 'b'));
  }));
  ASSERT_OK(h.commit_layer("linked", "", [](const std::string& root) -> Status {
    BERTH_TRY_STATUS(put_synced(path_in(root, "big"), pattern(kSize, 'c')));
    if (::link(path_in(root, "big").c_str(), path_in(root, "alias").c_str()) != 0) {
      return errno_error("link");
    }
    return {};
  }));
  ASSERT_OK_AND_ASSIGN(Usage single, h.driver().usage(h.ctx(), "single"));
  ASSERT_OK_AND_ASSIGN(Usage linked, h.driver().usage(h.ctx(), "linked"));
  EXPECT_GE(linked.size, kSize);
  EXPECT_LT(linked.size, 2 * kSize) << "a hard link must not count its data twice";
  EXPECT_EQ(linked.inodes, single.inodes) << "a hard link is one inode";
}

void keys_are_opaque_strings(Harness& h) {
  // If a driver used keys as paths, some of these would escape its root or clash; none may
  // become a file name (the marker is searched for in the whole temporary tree).
  const std::vector<std::string> keys = {
      "sha256:berthkeymarker0123456789abcdef0123456789abcdef0123456789abcdef0123",
      "../berthkeymarker-up",
      "berthkeymarker/with/slashes",
      "berthkeymarker with spaces\tand\ttabs",
      "berthkeymarker-unicode-\u00fc\u00f8",
      "/berthkeymarker/absolute",
      ".",
      "..",
      std::string("berthkeymarker-long-") + std::string(1000, 'x'),
      "default/1/berthkeymarker:commit",
  };
  for (const auto& key : keys) {
    ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), key, "", {{"key", key}}));
    ASSERT_FALSE(mounts.empty());
    ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), key));
    EXPECT_EQ(info.name, key);
    EXPECT_EQ(info.labels.at("key"), key);
  }
  // Committed names too, and children that name them as parents.
  ASSERT_OK(h.driver().commit(h.ctx(), "sha256:berthkeymarker/committed", keys[0], {}));
  ASSERT_OK(
      h.driver().prepare(h.ctx(), "berthkeymarker-child", "sha256:berthkeymarker/committed", {}));
  ASSERT_OK_AND_ASSIGN(auto all, h.driver().walk(h.ctx(), {}));
  EXPECT_EQ(all.size(), keys.size() + 1);
  ASSERT_OK(h.recreate());
  for (size_t i = 1; i < keys.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(SnapshotInfo info, h.driver().stat(h.ctx(), keys[i]));
    EXPECT_EQ(info.name, keys[i]);
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(h.temp_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    EXPECT_EQ(it->path().filename().string().find("berthkeymarker"), std::string::npos)
        << "a key became a path: " << it->path();
  }
}

void many_layers_stacked(Harness& h) {
  const int layers = h.fixture().many_layers;
  ASSERT_GE(layers, 2);
  const int deleted_at = layers / 2;
  auto start = std::chrono::steady_clock::now();
  std::string parent;
  for (int i = 0; i < layers; ++i) {
    const std::string name = "layer-" + std::to_string(i);
    ASSERT_OK(h.commit_layer(name, parent,
                             [&](const std::string& root) -> Status {
                               BERTH_TRY_STATUS(
                                   put(root, "file-" + std::to_string(i), std::to_string(i)));
                               if (i == 0) BERTH_TRY_STATUS(put(root, "victim", "deleted later"));
                               if (i == deleted_at) BERTH_TRY_STATUS(unlink_in(root, "victim"));
                               return {};
                             }))
        << "layer " << i;
    parent = name;
  }
  auto built = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "container", parent, {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
  auto mounted_at = std::chrono::steady_clock::now();
  const std::string& root = mounted.target();
  int missing = 0;
  for (int i = 0; i < layers; ++i) {
    std::string content = contents_or_error(path_in(root, "file-" + std::to_string(i)));
    if (content != std::to_string(i)) {
      if (++missing <= 5) ADD_FAILURE() << "file-" << i << ": " << content;
    }
  }
  EXPECT_EQ(missing, 0) << "files of " << missing << " layers are not visible";
  EXPECT_FALSE(exists(path_in(root, "victim")))
      << "a file deleted in layer " << deleted_at << " is visible again";
  ASSERT_OK(put(root, "container-file", "rw"));
  ASSERT_OK(mounted.unmount());

  using ms = std::chrono::milliseconds;
  auto build_ms = std::chrono::duration_cast<ms>(built - start).count();
  auto mount_ms = std::chrono::duration_cast<ms>(mounted_at - built).count();
  ::testing::Test::RecordProperty("layers", layers);
  ::testing::Test::RecordProperty("build_ms", static_cast<int>(build_ms));
  ::testing::Test::RecordProperty("mount_ms", static_cast<int>(mount_ms));
  std::cout << "[ timing   ] " << layers << " layers prepared, mounted, written and committed in "
            << build_ms << " ms; container snapshot prepared and mounted in " << mount_ms
            << " ms\n";
}

void state_persists_across_recreate(Harness& h) {
  ASSERT_OK(
      h.commit_layer("base", "", [](const std::string& root) { return put(root, "b", "b"); }));
  ASSERT_OK(h.commit_layer("mid", "base",
                           [](const std::string& root) { return put(root, "m", "m"); },
                           {{"layer", "mid"}}));
  ASSERT_OK_AND_ASSIGN(auto work_mounts, h.driver().prepare(h.ctx(), "work", "mid", {{"c", "1"}}));
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(work_mounts));
    ASSERT_OK(put(mounted.target(), "w", "w"));
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK(h.driver().view(h.ctx(), "v", "mid", {}));
  ASSERT_OK_AND_ASSIGN(auto before, h.driver().walk(h.ctx(), {}));

  ASSERT_OK(h.recreate());

  ASSERT_OK_AND_ASSIGN(auto after, h.driver().walk(h.ctx(), {}));
  auto by_name = [](std::vector<SnapshotInfo> v) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return v;
  };
  before = by_name(before);
  after = by_name(after);
  ASSERT_EQ(names_of(before), names_of(after));
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].kind, after[i].kind) << before[i].name;
    EXPECT_EQ(before[i].parent, after[i].parent) << before[i].name;
    EXPECT_EQ(before[i].labels, after[i].labels) << before[i].name;
    EXPECT_EQ(before[i].created_unix_nano, after[i].created_unix_nano) << before[i].name;
  }
  ASSERT_OK_AND_ASSIGN(auto mounts_after, h.driver().mounts(h.ctx(), "work"));
  EXPECT_TRUE(mounts_after == work_mounts) << "mounts of an active snapshot changed";
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts_after));
    EXPECT_EQ(contents_or_error(path_in(mounted.target(), "b")), "b");
    EXPECT_EQ(contents_or_error(path_in(mounted.target(), "m")), "m");
    EXPECT_EQ(contents_or_error(path_in(mounted.target(), "w")), "w");
    ASSERT_OK(mounted.unmount());
  }
  // Transitions keep working on the reloaded state.
  ASSERT_OK(h.driver().commit(h.ctx(), "top", "work", {}));
  ASSERT_OK(h.driver().remove(h.ctx(), "v"));
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "mid"), ErrorCode::kFailedPrecondition);
  ASSERT_OK(h.commit_layer("next", "top", [](const std::string& root) -> Status {
    if (!exists(path_in(root, "w"))) return make_error(ErrorCode::kNotFound, "w not visible");
    return put(root, "n", "n");
  }));
  ASSERT_OK(h.recreate());
  ASSERT_OK_AND_ASSIGN(SnapshotInfo next, h.driver().stat(h.ctx(), "next"));
  EXPECT_EQ(next.parent, "top");
  EXPECT_ERROR_CODE(h.driver().stat(h.ctx(), "v"), ErrorCode::kNotFound);
}

void active_mount_survives_recreate(Harness& h) {
  ASSERT_OK(
      h.commit_layer("base", "", [](const std::string& root) { return put(root, "b", "b"); }));
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().prepare(h.ctx(), "running", "base", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
  ASSERT_OK(put(mounted.target(), "before", "1"));
  // The daemon restarts while the container keeps its rootfs mounted.
  ASSERT_OK(h.recreate());
  ASSERT_OK_AND_ASSIGN(auto again, h.driver().mounts(h.ctx(), "running"));
  EXPECT_TRUE(again == mounts);
  ASSERT_OK(put(mounted.target(), "after", "2"));
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "b")), "b");
  ASSERT_OK(h.driver().cleanup(h.ctx()));
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "before")), "1")
      << "cleanup() must not touch a live snapshot";
  ASSERT_OK(mounted.unmount());
  ASSERT_OK(h.driver().commit(h.ctx(), "image", "running", {}));
  ASSERT_OK_AND_ASSIGN(auto view, h.driver().view(h.ctx(), "check", "image", {}));
  ASSERT_OK_AND_ASSIGN(auto check, h.mount(view));
  ASSERT_OK_AND_ASSIGN(auto entries, list_dir(check.target()));
  EXPECT_EQ(entries, (Names{"after", "b", "before"}));
  ASSERT_OK(check.unmount());
}

void concurrent_operations_on_different_keys(Harness& h) {
  ASSERT_OK(h.commit_layer("base", "", nullptr));
  constexpr int kThreads = 4;
  constexpr int kDepth = 8;
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  auto record = [&](const std::string& what, const Error& e) {
    std::lock_guard lock(errors_mutex);
    errors.push_back(what + ": " + e.message);
  };
  auto build = [&](int t) {
    Context ctx("conformance-" + std::to_string(t));
    std::string parent = "base";
    for (int j = 0; j < kDepth; ++j) {
      const std::string key = "t" + std::to_string(t) + "-active-" + std::to_string(j);
      const std::string name = "t" + std::to_string(t) + "-layer-" + std::to_string(j);
      if (auto r = h.driver().prepare(ctx, key, parent, {}); !r) return record(key, r.error());
      if (auto r = h.driver().stat(ctx, key); !r) return record(key, r.error());
      if (auto r = h.driver().walk(ctx, {parent, std::nullopt}); !r) return record(key, r.error());
      if (auto r = h.driver().commit(ctx, name, key, {}); !r) return record(name, r.error());
      parent = name;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(build, t);
  for (auto& t : threads) t.join();
  threads.clear();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_OK_AND_ASSIGN(auto committed, h.driver().walk(h.ctx(), {"", SnapshotKind::kCommitted}));
  EXPECT_EQ(committed.size(), static_cast<size_t>(1 + kThreads * kDepth));

  auto tear_down = [&](int t) {
    Context ctx("conformance-rm-" + std::to_string(t));
    for (int j = kDepth - 1; j >= 0; --j) {
      const std::string name = "t" + std::to_string(t) + "-layer-" + std::to_string(j);
      if (auto r = h.driver().remove(ctx, name); !r) return record(name, r.error());
    }
  };
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(tear_down, t);
  for (auto& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_OK_AND_ASSIGN(auto left, h.driver().walk(h.ctx(), {}));
  EXPECT_EQ(names_of(left), (Names{"base"}));
}

void cleanup_keeps_snapshots(Harness& h) {
  ASSERT_OK(
      h.commit_layer("base", "", [](const std::string& root) { return put(root, "b", "b"); }));
  ASSERT_OK_AND_ASSIGN(auto active, h.driver().prepare(h.ctx(), "a", "base", {}));
  {
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(active));
    ASSERT_OK(put(mounted.target(), "a", "a"));
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK(h.driver().view(h.ctx(), "v", "base", {}));
  ASSERT_OK(h.driver().cleanup(h.ctx()));
  ASSERT_OK(h.driver().remove(h.ctx(), "v"));
  ASSERT_OK(h.driver().cleanup(h.ctx()));
  ASSERT_OK_AND_ASSIGN(auto all, h.driver().walk(h.ctx(), {}));
  EXPECT_EQ(names_of(all), (Names{"a", "base"}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount_key("a"));
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "a")), "a");
  EXPECT_EQ(contents_or_error(path_in(mounted.target(), "b")), "b");
  ASSERT_OK(mounted.unmount());
}

void file_metadata_preserved(Harness& h) {
  constexpr time_t kMtime = 1'000'000'000;
  ASSERT_OK(h.commit_layer("base", "", [&](const std::string& root) -> Status {
    BERTH_TRY_STATUS(put(root, "owned", "o"));
    if (::chown(path_in(root, "owned").c_str(), 1000, 1001) != 0) return errno_error("chown");
    if (::chmod(path_in(root, "owned").c_str(), 04750) != 0) return errno_error("chmod");
    BERTH_TRY_STATUS(mkdir_in(root, "private", 0700));
    if (::symlink("/nonexistent/target", path_in(root, "dangling").c_str()) != 0) {
      return errno_error("symlink");
    }
    BERTH_TRY_STATUS(put(root, "hard1", "h"));
    if (::link(path_in(root, "hard1").c_str(), path_in(root, "hard2").c_str()) != 0) {
      return errno_error("link");
    }
    if (::mkfifo(path_in(root, "fifo").c_str(), 0600) != 0) return errno_error("mkfifo");
    BERTH_TRY_STATUS(put(root, "old", "old"));
    struct timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
    if (::utimensat(AT_FDCWD, path_in(root, "old").c_str(), times, 0) != 0) {
      return errno_error("utimensat");
    }
    return {};
  }));
  ASSERT_OK(h.commit_layer("child", "base", [](const std::string& root) -> Status {
    // A metadata-only change in a child (copy-up) must persist too.
    if (::chown(path_in(root, "hard1").c_str(), 2000, 2000) != 0) return errno_error("chown");
    return {};
  }));
  {
    // Hard links within a layer stay one inode.
    ASSERT_OK_AND_ASSIGN(auto base_view, h.driver().view(h.ctx(), "base-view", "base", {}));
    ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(base_view));
    struct stat one {
    }, two{};
    ASSERT_EQ(::lstat(path_in(mounted.target(), "hard1").c_str(), &one), 0);
    ASSERT_EQ(::lstat(path_in(mounted.target(), "hard2").c_str(), &two), 0);
    EXPECT_EQ(one.st_ino, two.st_ino);
    EXPECT_EQ(one.st_nlink, 2u);
    ASSERT_OK(mounted.unmount());
  }
  ASSERT_OK_AND_ASSIGN(auto view, h.driver().view(h.ctx(), "v", "child", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(view));
  const std::string& root = mounted.target();
  struct stat st {};
  ASSERT_EQ(::lstat(path_in(root, "owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(st.st_mode & 07777, 04750u);
  ASSERT_EQ(::lstat(path_in(root, "private").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  char target[256] = {};
  ASSERT_GT(::readlink(path_in(root, "dangling").c_str(), target, sizeof(target) - 1), 0);
  EXPECT_STREQ(target, "/nonexistent/target");
  ASSERT_EQ(::lstat(path_in(root, "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_EQ(::lstat(path_in(root, "old").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, kMtime);
  ASSERT_EQ(::lstat(path_in(root, "hard1").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 2000u) << "a metadata-only change in the child is lost";
  ASSERT_OK(mounted.unmount());
}

void remove_committed_chain_top_down(Harness& h) {
  ASSERT_OK(h.commit_layer("l1", "", nullptr));
  ASSERT_OK(h.commit_layer("l2", "l1", nullptr));
  ASSERT_OK(h.commit_layer("l3", "l2", nullptr));
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "l1"), ErrorCode::kFailedPrecondition);
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "l2"), ErrorCode::kFailedPrecondition);
  ASSERT_OK(h.driver().remove(h.ctx(), "l3"));
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "l1"), ErrorCode::kFailedPrecondition);
  ASSERT_OK(h.driver().remove(h.ctx(), "l2"));
  ASSERT_OK(h.driver().remove(h.ctx(), "l1"));
  EXPECT_ERROR_CODE(h.driver().remove(h.ctx(), "l1"), ErrorCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, h.driver().walk(h.ctx(), {}));
  EXPECT_TRUE(all.empty());
}

void view_without_parent_is_empty(Harness& h) {
  ASSERT_OK_AND_ASSIGN(auto mounts, h.driver().view(h.ctx(), "empty-view", "", {}));
  ASSERT_OK_AND_ASSIGN(auto mounted, h.mount(mounts));
  ASSERT_OK_AND_ASSIGN(auto entries, list_dir(mounted.target()));
  EXPECT_TRUE(entries.empty());
  EXPECT_FALSE(put(mounted.target(), "x", "x").has_value()) << "wrote into a view";
  ASSERT_OK(mounted.unmount());
}

// Writes `bytes` of zeros to a new file and syncs it; the errno of the first failure, 0 if none.
int write_and_sync(const std::string& path, size_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const std::string chunk(1 << 20, '\0');
  int err = 0;
  for (size_t done = 0; done < bytes && err == 0;) {
    ssize_t n = ::write(fd, chunk.data(), std::min(chunk.size(), bytes - done));
    if (n < 0) err = errno;
    else done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  return err;
}

// A driver that lists kSizeLimitCapability caps a writable snapshot at its kSnapshotSizeLabel:
// writes under the cap land, a write past it fails (EDQUOT or ENOSPC), a sibling without the
// label is not capped. Skipped, with the reason, for a driver that does not claim the capability.
void size_limit_caps_writes(Harness& h) {
  const auto caps = h.driver().info().capabilities;
  if (std::find(caps.begin(), caps.end(), kSizeLimitCapability) == caps.end()) {
    GTEST_SKIP() << "the driver does not list the \"" << kSizeLimitCapability << "\" capability";
  }
  constexpr size_t kMiB = 1 << 20;
  ASSERT_OK_AND_ASSIGN(auto capped_mounts,
                       h.driver().prepare(h.ctx(), "capped", "",
                                          {{std::string(kSnapshotSizeLabel),
                                            std::to_string(8 * kMiB)}}));
  ASSERT_OK_AND_ASSIGN(auto capped, h.mount(capped_mounts));
  EXPECT_EQ(write_and_sync(capped.target() + "/small", 2 * kMiB), 0) << "a write under the cap";
  int err = write_and_sync(capped.target() + "/big", 32 * kMiB);
  EXPECT_TRUE(err == EDQUOT || err == ENOSPC)
      << "a 32 MiB write into an 8 MiB snapshot: " << (err == 0 ? "succeeded" : std::strerror(err));
  ASSERT_OK(capped.unmount());

  ASSERT_OK_AND_ASSIGN(auto free_mounts, h.driver().prepare(h.ctx(), "uncapped", "", {}));
  ASSERT_OK_AND_ASSIGN(auto uncapped, h.mount(free_mounts));
  EXPECT_EQ(write_and_sync(uncapped.target() + "/big", 32 * kMiB), 0)
      << "a snapshot without the label was capped";
  ASSERT_OK(uncapped.unmount());
}

constexpr suite::Case<Harness> kCases[] = {
    {"InfoNamesDriver", &info_names_driver},
    {"PrepareReturnsMounts", &prepare_returns_mounts},
    {"PrepareMountWriteCommit", &prepare_mount_write_commit},
    {"ChildSeesParentFiles", &child_sees_parent_files},
    {"DeletionInChildHidesParentFile", &deletion_in_child_hides_parent_file},
    {"OpaqueDirectoryReplacesParentContent", &opaque_directory_replaces_parent_content},
    {"ViewIsReadOnly", &view_is_read_only},
    {"ViewOfLayerChainIsReadOnly", &view_of_layer_chain_is_read_only},
    {"ViewWithoutParentIsEmpty", &view_without_parent_is_empty},
    {"CommitOfViewRefused", &commit_of_view_refused},
    {"CommitOfCommittedRefused", &commit_of_committed_refused},
    {"CommitToExistingNameRefused", &commit_to_existing_name_refused},
    {"RemoveWithChildrenRefused", &remove_with_children_refused},
    {"RemoveCommittedChainTopDown", &remove_committed_chain_top_down},
    {"RemoveThenPrepareAgain", &remove_then_prepare_again},
    {"RemoveUnknownRefused", &remove_unknown_refused},
    {"UnknownKeyNotFound", &unknown_key_not_found},
    {"UnknownParentRefused", &unknown_parent_refused},
    {"ParentNotCommittedRefused", &parent_not_committed_refused},
    {"DuplicateKeyRefused", &duplicate_key_refused},
    {"EmptyKeyRefused", &empty_key_refused},
    {"MountsOfCommittedRefused", &mounts_of_committed_refused},
    {"WalkWithFilters", &walk_with_filters},
    {"LabelsUpdateAndPersist", &labels_update_and_persist},
    {"UsageCountsKnownFile", &usage_counts_known_file},
    {"UsageCountsHardLinksOnce", &usage_counts_hard_links_once},
    {"KeysAreOpaqueStrings", &keys_are_opaque_strings},
    {"FileMetadataPreserved", &file_metadata_preserved},
    {"ManyLayersStacked", &many_layers_stacked},
    {"StatePersistsAcrossRecreate", &state_persists_across_recreate},
    {"ActiveMountSurvivesRecreate", &active_mount_survives_recreate},
    {"ConcurrentOperationsOnDifferentKeys", &concurrent_operations_on_different_keys},
    {"CleanupKeepsSnapshots", &cleanup_keeps_snapshots},
    {"SizeLimitCapsWrites", &size_limit_caps_writes},
};

}  // namespace

bool register_storage_conformance(const char* suite_name, StorageFixtureFactory factory,
                                  const char* file, int line) {
  auto registration = std::make_shared<const Registration>(Registration{std::move(factory)});
  return suite::register_cases(suite_name, registration, kCases, file, line);
}

std::vector<std::string> storage_conformance_cases() { return suite::case_names(kCases); }

}  // namespace berth::sdk::testing
