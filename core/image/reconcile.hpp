// What an interrupted operation (berthd killed mid-import, mid-load, mid-commit, mid-rm) can
// leave in the data-root, found and removed at startup: staging and view snapshots, layer
// snapshots no record names, splits being written, spooled blobs nothing refers to. The plan is
// pure (unit-tested); ImageService::reconcile carries it out and logs each removal.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "berth/sdk/storage_driver.hpp"

namespace berth::core::image {

// Snapshots to remove, children before their parents. Kept: committed snapshots that are layers
// (`layer_chains`) and the active snapshots of containers (`container_keys`), with every
// ancestor of what is kept. Views are never kept: at startup nothing is reading one.
std::vector<std::string> plan_snapshot_cleanup(const std::vector<sdk::SnapshotInfo>& snapshots,
                                               const std::set<std::string>& layer_chains,
                                               const std::set<std::string>& container_keys);

// Blobs to remove: those `referenced` does not hold.
std::vector<std::string> plan_blob_cleanup(const std::vector<std::string>& blobs,
                                           const std::set<std::string>& referenced);

// What a reconciliation removed (logged; kept for tests and `berthd` messages).
struct ReconcileReport {
  std::vector<std::string> snapshots;
  std::vector<std::string> blobs;
  std::vector<std::string> files;  // split and temp files of the layer store
};

}  // namespace berth::core::image
