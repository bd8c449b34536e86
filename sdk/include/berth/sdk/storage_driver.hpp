// StorageDriver: containerd's snapshot model. A committed snapshot (`name`) is an immutable layer;
// an active snapshot (`key`) is a writable child of one; a view is a read-only child. Drivers
// never mount: they return mount specs and the caller mounts them (in its namespace or the
// container's). Implemented by plugins/storage-overlay and plugins/storage-btrfs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/sdk/host.hpp"

namespace berth::sdk {

struct Mount {
  std::string type;    // "overlay", "bind", "btrfs", ...
  std::string source;
  std::string target;  // relative to the mount root; empty = the root itself
  std::vector<std::string> options;

  bool operator==(const Mount&) const = default;
};

enum class SnapshotKind { kView, kActive, kCommitted };

std::string_view snapshot_kind_name(SnapshotKind kind);

struct SnapshotInfo {
  std::string name;    // key (active, view) or name (committed)
  std::string parent;  // committed parent, empty for a base layer
  SnapshotKind kind = SnapshotKind::kActive;
  Labels labels;
  int64_t created_unix_nano = 0;
  int64_t updated_unix_nano = 0;
};

// Bytes and inodes used by this snapshot alone (parents excluded).
struct Usage {
  int64_t size = 0;
  int64_t inodes = 0;
};

struct WalkFilter {
  std::string parent;                // only children of this snapshot, when set
  std::optional<SnapshotKind> kind;  // only this kind, when set
};

// A size cap for a writable snapshot (`--storage-opt size=`), passed to prepare() as this label
// with the bytes in decimal. Only a driver whose info() lists kSizeLimitCapability honours it;
// the host refuses the option for any other, so a cap is never silently dropped.
inline constexpr std::string_view kSnapshotSizeLabel = "berth.snapshot.size";
inline constexpr std::string_view kSizeLimitCapability = "size-limit";

class StorageDriver {
 public:
  virtual ~StorageDriver() = default;

  virtual DriverInfo info() = 0;
  // A new writable snapshot `key` on top of committed `parent` (empty: an empty root).
  virtual Result<std::vector<Mount>> prepare(Context& ctx, std::string_view key,
                                             std::string_view parent, const Labels& labels) = 0;
  // A new read-only snapshot `key` of committed `parent`.
  virtual Result<std::vector<Mount>> view(Context& ctx, std::string_view key,
                                          std::string_view parent, const Labels& labels) = 0;
  // The mounts of an existing active or view snapshot.
  virtual Result<std::vector<Mount>> mounts(Context& ctx, std::string_view key) = 0;
  // Turns active snapshot `key` into committed snapshot `name`; `key` no longer exists after.
  virtual Status commit(Context& ctx, std::string_view name, std::string_view key,
                        const Labels& labels) = 0;
  // Removes a snapshot; a committed one with children is refused (kFailedPrecondition).
  virtual Status remove(Context& ctx, std::string_view key) = 0;
  virtual Result<SnapshotInfo> stat(Context& ctx, std::string_view key) = 0;
  // Replaces the labels of a snapshot.
  virtual Result<SnapshotInfo> update_labels(Context& ctx, std::string_view key,
                                             const Labels& labels) = 0;
  virtual Result<Usage> usage(Context& ctx, std::string_view key) = 0;
  virtual Result<std::vector<SnapshotInfo>> walk(Context& ctx, const WalkFilter& filter) = 0;
  // Deferred garbage collection; optional.
  virtual Status cleanup(Context& /*ctx*/) { return {}; }
};

}  // namespace berth::sdk
