// Helpers for the volume tests: a temporary volumes directory with its own event bus, and a
// check that no mount is left below a path.
#pragma once

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/events/event_bus.hpp"
#include "core/volume/volume_manager.hpp"
#include "tests/unit/layer/test_util.hpp"

namespace berth::core::volume::testing {

using layer::testing::TempDir;

// Mount points below `prefix` in this mount namespace.
inline std::vector<std::string> mounts_below(const std::string& prefix) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    if (!(fields >> id >> parent >> dev >> root >> point)) continue;
    if (point.rfind(prefix, 0) == 0) out.push_back(point);
  }
  return out;
}

struct Fixture {
  TempDir tmp;
  events::EventBus events;
  std::string dir = (tmp.path() / "volumes").string();
  std::unique_ptr<VolumeManager> vm;

  Fixture() { reopen(); }
  ~Fixture() {
    // Never leave a test mount behind, whatever the test did.
    for (const auto& m : mounts_below(tmp.path().string())) ::umount2(m.c_str(), MNT_DETACH);
  }
  void reopen() {
    vm.reset();
    auto opened = VolumeManager::open(dir, events);
    if (!opened) throw std::runtime_error(opened.error().message);
    vm = std::move(*opened);
  }
};

}  // namespace berth::core::volume::testing
