// The startup reconciliation's plan: what an interrupted operation left, and only that.
#include "core/image/reconcile.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::core::image {
namespace {

using sdk::SnapshotInfo;
using sdk::SnapshotKind;

SnapshotInfo snap(std::string name, std::string parent, SnapshotKind kind) {
  SnapshotInfo s;
  s.name = std::move(name);
  s.parent = std::move(parent);
  s.kind = kind;
  return s;
}

size_t position(const std::vector<std::string>& order, const std::string& name) {
  return static_cast<size_t>(std::find(order.begin(), order.end(), name) - order.begin());
}

TEST(ReconcilePlan, KeepsLayersContainersAndWhatTheyStandOnAndRemovesTheRest) {
  std::vector<SnapshotInfo> all = {
      snap("base", "", SnapshotKind::kCommitted),
      snap("mid", "base", SnapshotKind::kCommitted),
      snap("top", "mid", SnapshotKind::kCommitted),
      snap("container-a", "top", SnapshotKind::kActive),
      // A layer whose record was lost but a container still stands on it.
      snap("unrecorded", "base", SnapshotKind::kCommitted),
      snap("container-b", "unrecorded", SnapshotKind::kActive),
      // Leftovers: a staging snapshot, a view, a container with no record, an orphan layer
      // chain with a child of its own.
      snap("extract-1234", "top", SnapshotKind::kActive),
      snap("tarview-9", "mid", SnapshotKind::kView),
      snap("container-gone", "top", SnapshotKind::kActive),
      snap("orphan", "", SnapshotKind::kCommitted),
      snap("orphan-child", "orphan", SnapshotKind::kCommitted),
  };
  auto order = plan_snapshot_cleanup(all, {"top"}, {"container-a", "container-b"});
  std::vector<std::string> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{"container-gone", "extract-1234", "orphan",
                                              "orphan-child", "tarview-9"}));
  EXPECT_LT(position(order, "orphan-child"), position(order, "orphan"));
}

TEST(ReconcilePlan, AViewOfAKeptLayerGoesButTheLayerStays) {
  std::vector<SnapshotInfo> all = {snap("l", "", SnapshotKind::kCommitted),
                                   snap("diff-abc", "l", SnapshotKind::kView)};
  EXPECT_EQ(plan_snapshot_cleanup(all, {"l"}, {}), (std::vector<std::string>{"diff-abc"}));
}

TEST(ReconcilePlan, NothingToDoOnACleanDataRoot) {
  std::vector<SnapshotInfo> all = {snap("l1", "", SnapshotKind::kCommitted),
                                   snap("l2", "l1", SnapshotKind::kCommitted),
                                   snap("container-x", "l2", SnapshotKind::kActive)};
  EXPECT_TRUE(plan_snapshot_cleanup(all, {"l2"}, {"container-x"}).empty());
}

TEST(ReconcilePlan, BlobsNothingRefersToGo) {
  EXPECT_EQ(plan_blob_cleanup({"sha256:a", "sha256:b", "sha256:c"}, {"sha256:b"}),
            (std::vector<std::string>{"sha256:a", "sha256:c"}));
}

}  // namespace
}  // namespace berth::core::image
