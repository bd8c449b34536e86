// The SDK's snapshot record store, shared by the overlay and btrfs drivers: records round-trip,
// belong to one driver, and an interrupted write leaves nothing a restart would misread.
#include "berth/sdk/fs.hpp"
#include "berth/sdk/storage/snapshot_records.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "berth/sdk/storage/durable_files.hpp"

namespace berth::sdk::storage {
namespace {

class SnapshotRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-records-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static SnapshotRecord record(uint64_t id, std::string name) {
    SnapshotRecord r;
    r.id = id;
    r.info.name = std::move(name);
    r.info.parent = "sha256:parent";
    r.info.kind = SnapshotKind::kCommitted;
    r.info.labels = {{"a", "1"}, {"containerd.io/gc.root", "x"}};
    r.info.created_unix_nano = 11;
    r.info.updated_unix_nano = 22;
    return r;
  }
  void put(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ + "/" + name) << text;
  }

  std::string dir_;
};

TEST_F(SnapshotRecordsTest, SavedRecordsLoadBackInIdOrder) {
  SnapshotRecordStore store(dir_, "overlay");
  ASSERT_TRUE(store.save(record(12, "b")).has_value());
  ASSERT_TRUE(store.save(record(3, "a")).has_value());
  auto all = store.load_all();
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, 3u);
  EXPECT_EQ((*all)[1].id, 12u);
  const SnapshotInfo& info = (*all)[1].info;
  EXPECT_EQ(info.name, "b");
  EXPECT_EQ(info.parent, "sha256:parent");
  EXPECT_EQ(info.kind, SnapshotKind::kCommitted);
  EXPECT_EQ(info.labels.at("containerd.io/gc.root"), "x");
  EXPECT_EQ(info.created_unix_nano, 11);
  EXPECT_EQ(info.updated_unix_nano, 22);
  ASSERT_TRUE(store.erase(12).has_value());
  ASSERT_TRUE(store.erase(12).has_value()) << "erasing a missing record is fine";
  EXPECT_EQ(store.load_all()->size(), 1u);
}

TEST_F(SnapshotRecordsTest, AnotherDriversRecordIsRefusedNamingTheFile) {
  ASSERT_TRUE(SnapshotRecordStore(dir_, "btrfs").save(record(1, "a")).has_value());
  auto all = SnapshotRecordStore(dir_, "overlay", /*accept_unnamed_records=*/true).load_all();
  ASSERT_FALSE(all.has_value());
  EXPECT_NE(all.error().message.find(dir_ + "/1.json"), std::string::npos) << all.error().message;
  EXPECT_NE(all.error().message.find("not a record of the overlay driver"), std::string::npos)
      << all.error().message;
}

TEST_F(SnapshotRecordsTest, RecordWithoutDriverIsReadOnlyWhereAllowed) {
  put("1.json", R"({"version":1,"id":1,"name":"a","parent":"","kind":"active",)"
                R"("labels":{},"created_unix_nano":1,"updated_unix_nano":1})");
  EXPECT_TRUE(SnapshotRecordStore(dir_, "overlay", true).load_all().has_value());
  auto strict = SnapshotRecordStore(dir_, "btrfs").load_all();
  ASSERT_FALSE(strict.has_value());
  EXPECT_NE(strict.error().message.find("not a record of the btrfs driver"), std::string::npos);
}

TEST_F(SnapshotRecordsTest, InterruptedWriteLeftoversAreRemovedAndForeignFilesIgnored) {
  SnapshotRecordStore store(dir_, "btrfs");
  ASSERT_TRUE(store.save(record(1, "a")).has_value());
  put(".2.json.tmp-Ab12Cd", "{half a rec");
  put("notes.txt", "not ours");
  auto all = store.load_all();
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ(all->size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/.2.json.tmp-Ab12Cd"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/notes.txt"));
}

TEST_F(SnapshotRecordsTest, CorruptOrMisnamedRecordStopsTheLoad) {
  SnapshotRecordStore store(dir_, "btrfs");
  put("1.json", "{not json");
  auto bad = store.load_all();
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("invalid JSON"), std::string::npos) << bad.error().message;
  std::filesystem::remove(dir_ + "/1.json");
  put("7.json", store.encode(record(8, "x")));
  auto misnamed = store.load_all();
  ASSERT_FALSE(misnamed.has_value());
  EXPECT_NE(misnamed.error().message.find("does not match"), std::string::npos);
}

TEST_F(SnapshotRecordsTest, IndexWalksInCreationOrderAndUpdatesLabelsDurably) {
  SnapshotRecordStore store(dir_, "btrfs");
  SnapshotIndex index;
  SnapshotRecord base = record(5, "base");
  base.info.parent = "";
  SnapshotRecord child = record(9, "a-child");
  child.info.parent = "base";
  child.info.kind = SnapshotKind::kActive;
  SnapshotRecord other = record(7, "z-other");
  other.info.parent = "base";
  for (const auto& r : {base, child, other}) {
    ASSERT_TRUE(store.save(r).has_value());
    index.emplace(r.info.name, r);
  }
  std::string first;
  EXPECT_EQ(count_children(index, "base", &first), 2u);
  EXPECT_EQ(first, "a-child");
  EXPECT_EQ(count_children(index, "a-child", nullptr), 0u);
  EXPECT_EQ(find_snapshot(index, "z-other")->id, 7u);
  EXPECT_EQ(find_snapshot(index, "nope"), nullptr);

  auto all = walk_snapshots(index, {});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "base");
  EXPECT_EQ(all[1].name, "z-other") << "id order, not name order";
  EXPECT_EQ(all[2].name, "a-child");
  WalkFilter active;
  active.kind = SnapshotKind::kActive;
  ASSERT_EQ(walk_snapshots(index, active).size(), 1u);
  WalkFilter under_base;
  under_base.parent = "base";
  EXPECT_EQ(walk_snapshots(index, under_base).size(), 2u);

  // A timestamp far in the future: the update still moves it forward.
  index.at("base").info.updated_unix_nano = now_unix_nano() + 1'000'000'000'000;
  const int64_t before = index.at("base").info.updated_unix_nano;
  auto updated = update_snapshot_labels(index, store, "base", {{"k", "v"}});
  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_EQ(updated->labels.at("k"), "v");
  EXPECT_GT(updated->updated_unix_nano, before);
  auto reloaded = store.load_all();
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ(reloaded->front().info.labels.at("k"), "v") << "the record on disk has the labels";

  auto missing = update_snapshot_labels(index, store, "nope", {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "snapshot nope does not exist");
}

TEST_F(SnapshotRecordsTest, ForgetRefusesAParentThenErasesRecordAndIndexEntry) {
  SnapshotRecordStore store(dir_, "overlay");
  SnapshotIndex index;
  SnapshotRecord base = record(3, "base");
  base.info.parent = "";
  SnapshotRecord child = record(4, "child");
  child.info.parent = "base";
  for (const auto& r : {base, child}) {
    ASSERT_TRUE(store.save(r).has_value());
    index.emplace(r.info.name, r);
  }
  auto refused = forget_snapshot(index, store, "base");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.error().message, "snapshot base has 1 child (child): remove them first");
  EXPECT_EQ(index.size(), 2u);

  auto id = forget_snapshot(index, store, "child");
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ(*id, 4u);
  EXPECT_EQ(find_snapshot(index, "child"), nullptr);
  auto on_disk = store.load_all();
  ASSERT_TRUE(on_disk.has_value());
  ASSERT_EQ(on_disk->size(), 1u);
  EXPECT_EQ(on_disk->front().id, 3u);
  EXPECT_TRUE(forget_snapshot(index, store, "base").has_value());
  auto missing = forget_snapshot(index, store, "base");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(SnapshotRecordsTest, PlanSnapshotAndCommitCheckTheIndexAndBuildTheRecord) {
  SnapshotIndex index;
  SnapshotRecord layer = record(1, "layer");
  layer.info.parent = "";
  SnapshotRecord active = record(2, "box");
  active.info.parent = "layer";
  active.info.kind = SnapshotKind::kActive;
  index.emplace(layer.info.name, layer);
  index.emplace(active.info.name, active);

  uint64_t next_id = 7;
  auto refused = [&](std::string_view key, std::string_view parent) {
    auto p = plan_snapshot(index, next_id, SnapshotKind::kActive, key, parent, {});
    EXPECT_FALSE(p.has_value());
    return p ? std::string() : p.error().message;
  };
  EXPECT_EQ(refused("", "layer"), "snapshot key is empty");
  EXPECT_EQ(refused("box", "layer"), "snapshot box already exists");
  EXPECT_EQ(refused("new", "nope"), "parent snapshot nope does not exist");
  EXPECT_EQ(refused("new", "box"), "parent snapshot box is active, not committed");
  EXPECT_EQ(next_id, 7u) << "a refusal takes no id";
  auto planned = plan_snapshot(index, next_id, SnapshotKind::kView, "new", "layer", {{"k", "v"}});
  ASSERT_TRUE(planned.has_value()) << planned.error().message;
  EXPECT_EQ(planned->record.id, 7u);
  EXPECT_EQ(next_id, 8u);
  EXPECT_EQ(planned->parent_record, &index.at("layer"));
  EXPECT_EQ(planned->record.info.kind, SnapshotKind::kView);
  EXPECT_EQ(planned->record.info.labels.at("k"), "v");
  EXPECT_EQ(planned->record.info.created_unix_nano, planned->record.info.updated_unix_nano);

  auto not_active = plan_commit(index, "img", "layer", {});
  ASSERT_FALSE(not_active.has_value());
  EXPECT_EQ(not_active.error().message,
            "snapshot layer is committed: only an active snapshot can be committed");
  EXPECT_EQ(plan_commit(index, "", "box", {}).error().message, "commit name is empty");
  EXPECT_EQ(plan_commit(index, "layer", "box", {}).error().message,
            "snapshot layer already exists");
  EXPECT_EQ(plan_commit(index, "img", "nope", {}).error().code, ErrorCode::kNotFound);
  auto committed = plan_commit(index, "img", "box", {{"c", "1"}});
  ASSERT_TRUE(committed.has_value()) << committed.error().message;
  EXPECT_EQ(committed->id, 2u) << "a commit keeps the data where it is";
  EXPECT_EQ(committed->info.name, "img");
  EXPECT_EQ(committed->info.parent, "layer");
  EXPECT_EQ(committed->info.kind, SnapshotKind::kCommitted);
  EXPECT_EQ(committed->info.labels.at("c"), "1");
  EXPECT_EQ(index.at("box").info.kind, SnapshotKind::kActive) << "the index is the caller's";
}

TEST(DurableFilesTest, AtomicWriteReplacesAndErrorsReadInLowerCase) {
  char tmpl[] = "/tmp/berth-durable-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_TRUE(fs::atomic_write(dir + "/f", "one").has_value());
  ASSERT_TRUE(fs::atomic_write(dir + "/f", "two").has_value());
  EXPECT_EQ(*read_whole_file(dir + "/f"), "two");
  ASSERT_TRUE(ensure_dir(dir + "/d", 0755).has_value());
  ASSERT_TRUE(ensure_dir(dir + "/d", 0755).has_value());
  EXPECT_FALSE(ensure_dir(dir + "/f", 0755).has_value()) << "a file is not a directory";
  auto missing = read_whole_file(dir + "/nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "open " + dir + "/nope: no such file or directory");
  EXPECT_TRUE(is_decimal("0123"));
  EXPECT_FALSE(is_decimal(""));
  EXPECT_FALSE(is_decimal("12a"));
  EXPECT_FALSE(is_decimal("12345678901234567890"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::sdk::storage
