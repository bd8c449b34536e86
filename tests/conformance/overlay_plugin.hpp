// Shared by the overlay tests: storage.overlay drivers created from berth-storage-overlay.so.
#pragma once

#include <memory>
#include <string>

#include "tests/conformance/plugin_test_support.hpp"

namespace berth::tests {

inline sdk::Result<std::unique_ptr<sdk::StorageDriver>> create_overlay(
    const std::string& root_dir, const std::string& state_dir,
    const std::string& config_json = "{}") {
  return create_storage_from_plugin(BERTH_OVERLAY_PLUGIN_PATH, "storage.overlay", root_dir,
                                    state_dir, config_json, "storage.overlay");
}

}  // namespace berth::tests
