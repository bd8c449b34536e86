// A storage driver for the fuzz harnesses: each snapshot a plain directory holding its whole
// tree (a child starts as a copy of its parent), mounted as a bind mount the applier writes into
// directly. No kernel mounts are made: callers apply through the "bind" fast path.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "berth/sdk/storage_driver.hpp"

namespace berth::fuzzing {

class DirStorage final : public sdk::StorageDriver {
 public:
  explicit DirStorage(std::filesystem::path root) : root_(std::move(root)) {
    std::filesystem::create_directories(root_);
  }
  sdk::DriverInfo info() override { return {"fuzzdir", {}, {}}; }
  sdk::Result<std::vector<sdk::Mount>> prepare(sdk::Context&, std::string_view key, std::string_view parent,
                                               const sdk::Labels&) override {
    return make(key, parent, sdk::SnapshotKind::kActive);
  }
  sdk::Result<std::vector<sdk::Mount>> view(sdk::Context&, std::string_view key, std::string_view parent,
                                            const sdk::Labels&) override {
    return make(key, parent, sdk::SnapshotKind::kView);
  }
  sdk::Result<std::vector<sdk::Mount>> mounts(sdk::Context&, std::string_view key) override {
    auto it = snaps_.find(std::string(key));
    if (it == snaps_.end()) return sdk::make_error(sdk::ErrorCode::kNotFound, "no snapshot");
    return std::vector<sdk::Mount>{{"bind", dir(key), "", {"rbind"}}};
  }
  sdk::Status commit(sdk::Context&, std::string_view name, std::string_view key, const sdk::Labels&) override {
    auto it = snaps_.find(std::string(key));
    if (it == snaps_.end()) return sdk::make_error(sdk::ErrorCode::kNotFound, "no snapshot");
    if (snaps_.contains(std::string(name))) return sdk::make_error(sdk::ErrorCode::kAlreadyExists, "exists");
    std::filesystem::rename(dir(key), dir(name));
    auto info = it->second;
    info.name = std::string(name);
    info.kind = sdk::SnapshotKind::kCommitted;
    snaps_.erase(it);
    snaps_[info.name] = info;
    return {};
  }
  sdk::Status remove(sdk::Context&, std::string_view key) override {
    if (snaps_.erase(std::string(key)) == 0) return sdk::make_error(sdk::ErrorCode::kNotFound, "no snapshot");
    std::error_code ec;
    std::filesystem::remove_all(dir(key), ec);
    return {};
  }
  sdk::Result<sdk::SnapshotInfo> stat(sdk::Context&, std::string_view key) override {
    auto it = snaps_.find(std::string(key));
    if (it == snaps_.end()) return sdk::make_error(sdk::ErrorCode::kNotFound, "no snapshot");
    return it->second;
  }
  sdk::Result<sdk::SnapshotInfo> update_labels(sdk::Context& ctx, std::string_view key, const sdk::Labels&) override {
    return stat(ctx, key);
  }
  sdk::Result<sdk::Usage> usage(sdk::Context&, std::string_view) override { return sdk::Usage{}; }
  sdk::Result<std::vector<sdk::SnapshotInfo>> walk(sdk::Context&, const sdk::WalkFilter&) override {
    std::vector<sdk::SnapshotInfo> out;
    for (const auto& [_, s] : snaps_) out.push_back(s);
    return out;
  }

 private:
  std::string dir(std::string_view key) const {
    std::string name(key);
    for (auto& c : name) c = c == '/' || c == ':' ? '_' : c;
    return (root_ / name).string();
  }
  sdk::Result<std::vector<sdk::Mount>> make(std::string_view key, std::string_view parent, sdk::SnapshotKind kind) {
    if (snaps_.contains(std::string(key))) return sdk::make_error(sdk::ErrorCode::kAlreadyExists, "exists");
    std::filesystem::create_directories(dir(key));
    if (!parent.empty()) {
      if (!snaps_.contains(std::string(parent))) return sdk::make_error(sdk::ErrorCode::kNotFound, "no parent");
      std::filesystem::copy(dir(parent), dir(key),
                            std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
    }
    sdk::SnapshotInfo info;
    info.name = std::string(key);
    info.parent = std::string(parent);
    info.kind = kind;
    snaps_[info.name] = info;
    return std::vector<sdk::Mount>{{"bind", dir(key), "", {"rbind"}}};
  }

  std::filesystem::path root_;
  std::map<std::string, sdk::SnapshotInfo> snaps_;
};

}  // namespace berth::fuzzing
