// xfs project quotas for overlay's upper dirs: how `--storage-opt size=` caps a container's
// writable layer on overlay, as dockerd's overlay2 driver does on xfs mounted with `pquota`.
//
// Each capped snapshot directory gets a project id of its own with the PROJINHERIT flag, so
// everything created below it (the upper and work dirs, and every file a container writes or
// copies up) is charged to that project; the project's hard block limit is the cap. Ids start
// after the driver root's own project id and are found again at start by reading the snapshot
// directories, so a restart never hands out an id a live snapshot holds.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "berth/sdk/result.hpp"

namespace berth::plugins::overlay {

class ProjectQuota {
 public:
  // The quota control for the xfs filesystem holding `root`, whose project quotas must be
  // enforced (mounted with pquota/prjquota). kUnsupported, with the reason, on any other
  // filesystem or without enforcement; that is the normal case and the driver then simply does
  // not offer size limits. `snapshots_dir` is scanned for ids already in use.
  static sdk::Result<std::unique_ptr<ProjectQuota>> open(const std::string& root,
                                                         const std::string& snapshots_dir);

  // Gives the (empty, just made) directory `dir` a fresh project id, inherited by all below it,
  // and caps that project at `bytes`.
  sdk::Status limit(const std::string& dir, uint64_t bytes);

 private:
  ProjectQuota(int root_fd, uint32_t next_id) : root_fd_(root_fd), next_id_(next_id) {}

 public:
  ~ProjectQuota();
  ProjectQuota(const ProjectQuota&) = delete;
  ProjectQuota& operator=(const ProjectQuota&) = delete;

 private:
  int root_fd_;  // any fd on the filesystem: quotactl_fd(2)'s handle on it
  std::mutex mutex_;
  uint32_t next_id_;
};

}  // namespace berth::plugins::overlay
