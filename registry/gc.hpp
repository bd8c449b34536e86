// Garbage collection of the filesystem storage, safe while the registry serves:
//  1. mark: every manifest revision of every repository, with its config, layers and child
//     manifests, is marked. With delete_untagged, a revision that no tag, no kept index and no
//     kept subject (for referrers) reaches, and older than the grace period, is deleted first.
//  2. sweep: every blob not marked and older than the grace period is deleted, each one under
//     the exclusive BlobGuard after re-reading its age, so a push that references it
//     meanwhile (which touches it under the shared guard) always wins.
// A manifest that cannot be read aborts the run before anything is deleted: better to keep
// garbage than to lose a referenced blob.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/common/result.hpp"
#include "registry/fs_storage.hpp"

namespace berth::registry {

struct GcOptions {
  bool dry_run = false;
  bool delete_untagged = false;
  std::chrono::seconds grace_period{3600};
};

struct GcReport {
  std::vector<std::string> deleted_blobs;      // "sha256:..." (would be, in a dry run)
  std::vector<std::string> deleted_manifests;  // "repo@sha256:..."
  uint64_t freed_bytes = 0;
  size_t marked_blobs = 0;
  size_t kept_young_blobs = 0;  // unreferenced but within the grace period
  bool dry_run = false;

  boost::json::object to_json() const;
};

Result<GcReport> collect_garbage(FsStorage& storage, const GcOptions& options);

}  // namespace berth::registry
