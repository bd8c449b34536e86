#include "core/image/reconcile.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/common/logging.hpp"
#include "core/image/image_service.hpp"

namespace berth::core::image {

std::vector<std::string> plan_snapshot_cleanup(const std::vector<sdk::SnapshotInfo>& snapshots,
                                               const std::set<std::string>& layer_chains,
                                               const std::set<std::string>& container_keys) {
  std::map<std::string, const sdk::SnapshotInfo*> by_name;
  for (const auto& s : snapshots) by_name[s.name] = &s;
  std::set<std::string> keep;
  auto keep_with_ancestors = [&](std::string name) {
    for (int depth = 0; !name.empty() && depth < 4096 && keep.insert(name).second; ++depth) {
      auto it = by_name.find(name);
      if (it == by_name.end()) break;
      name = it->second->parent;
    }
  };
  for (const auto& s : snapshots) {
    bool wanted = (s.kind == sdk::SnapshotKind::kCommitted && layer_chains.contains(s.name)) ||
                  (s.kind == sdk::SnapshotKind::kActive && container_keys.contains(s.name));
    if (wanted) keep_with_ancestors(s.name);
  }
  // Children first: a snapshot goes once nothing left on top of it.
  std::map<std::string, int> children;
  for (const auto& s : snapshots) {
    if (!keep.contains(s.name) && !s.parent.empty()) ++children[s.parent];
  }
  std::vector<std::string> order;
  std::vector<const sdk::SnapshotInfo*> pending;
  for (const auto& s : snapshots) {
    if (!keep.contains(s.name)) pending.push_back(&s);
  }
  while (!pending.empty()) {
    size_t before = pending.size();
    std::vector<const sdk::SnapshotInfo*> later;
    for (const auto* s : pending) {
      if (children[s->name] > 0) {
        later.push_back(s);
        continue;
      }
      order.push_back(s->name);
      if (!s->parent.empty()) --children[s->parent];
    }
    pending.swap(later);
    if (pending.size() == before) break;  // a cycle a driver should never report: leave it
  }
  return order;
}

std::vector<std::string> plan_blob_cleanup(const std::vector<std::string>& blobs,
                                           const std::set<std::string>& referenced) {
  std::vector<std::string> out;
  std::copy_if(blobs.begin(), blobs.end(), std::back_inserter(out),
               [&](const std::string& b) { return !referenced.contains(b); });
  return out;
}

Result<ReconcileReport> ImageService::reconcile(sdk::Context& ctx, const std::set<std::string>& container_keys) {
  auto log = logging::get("image");
  ReconcileReport report;
  auto snapshots = storage_.walk(ctx, {});
  if (!snapshots) return snapshots.error().wrap("list snapshots");
  // Layers stay while an image or a container's root filesystem stands on them; any other layer
  // record is the remains of an import or load that did not finish.
  std::set<std::string> chains = chains_in_use();
  {
    std::map<std::string, std::string> parent_of;
    for (const auto& snap : *snapshots) parent_of[snap.name] = snap.parent;
    for (const auto& key : container_keys) {
      auto it = parent_of.find(key);
      for (std::string p = it == parent_of.end() ? "" : it->second; !p.empty() && chains.insert(p).second;) {
        auto up = parent_of.find(p);
        p = up == parent_of.end() ? "" : up->second;
      }
    }
  }
  std::set<std::string> referenced;  // blobs
  for (const auto& l : store_.layers()) {
    if (!chains.contains(l.chain_id)) {
      (void)store_.remove_layer(l.chain_id);
      log->info("reconcile: removed layer {} that no image or container uses", l.chain_id);
      continue;
    }
    if (!l.split) referenced.insert(l.diff_id);
  }
  for (const auto& img : store_.images()) referenced.insert(img.id);
  for (const auto& key : plan_snapshot_cleanup(*snapshots, chains, container_keys)) {
    if (auto s = storage_.remove(ctx, key); !s) {
      log->warn("reconcile: cannot remove orphan snapshot {}: {}", key, s.error().message);
      continue;
    }
    log->info("reconcile: removed snapshot {} that nothing refers to (an interrupted operation's)", key);
    report.snapshots.push_back(key);
  }
  // The driver's own leftovers (directories without records, half-removed snapshots).
  if (auto s = storage_.cleanup(ctx); !s) log->warn("reconcile: storage cleanup: {}", s.error().message);
  for (const auto& l : store_.layers()) {
    if (!storage_.stat(ctx, l.chain_id)) {
      log->warn("layer {} has lost its snapshot; images using it cannot run until it is loaded again",
                l.diff_id);
    }
  }

  // The layer store: splits being written, and splits or captures of layers that are gone.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(store_.layers_dir(), ec)) {
    std::string name = entry.path().filename().string();
    auto ext = entry.path().extension().string();
    bool orphan = name.rfind("tmp-", 0) == 0;
    if (!orphan && (ext == ".split" || ext == ".captures")) {
      orphan = !store_.layer("sha256:" + entry.path().stem().string()).has_value();
    }
    if (!orphan) continue;
    std::error_code rm;
    std::filesystem::remove(entry.path(), rm);
    if (!rm) {
      log->info("reconcile: removed {} (no layer record)", entry.path().string());
      report.files.push_back(entry.path().string());
    }
  }

  auto blobs = content_.list();
  if (!blobs) return blobs.error().wrap("list blobs");
  for (const auto& digest : plan_blob_cleanup(*blobs, referenced)) {
    if (content_.remove(digest)) {
      log->info("reconcile: removed blob {} that no image refers to (a spooled layer)", digest);
      report.blobs.push_back(digest);
    }
  }
  return report;
}

}  // namespace berth::core::image
