// A berthd that runs containers (isolation.linux) in a private data-root, exec-root, socket and
// cgroup parent, with the busybox test image (plus the berth-probe helper) imported.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/support/berthd_process.hpp"

namespace berth::testing {

// Busybox rootfs with /usr/local/bin/berth-probe, as a tar built once per build tree.
std::string probe_image_tar();

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // berth -H <daemon> args...
  CommandResult berth(const std::vector<std::string>& args, const std::string& input = "");
  // Like berth() but fails the test when the command fails; returns stdout without the trailing
  // newline.
  std::string ok(const std::vector<std::string>& args, const std::string& input = "");
  // `inspect -f <template>` of a container.
  std::string inspect(const std::string& name, const std::string& tmpl);
  // Waits until `cond` holds (polling), up to timeout_ms.
  bool eventually(const std::function<bool()>& cond, int timeout_ms = 10000);
  std::string cgroup_parent() const { return cgroup_parent_; }
  // Every mount, cgroup and process of this daemon's containers is gone.
  void expect_nothing_left(const std::string& id_prefix);

  TempDir dir_{"berth-ctr"};
  BerthdProcess d_{dir_.path()};
  std::string cgroup_parent_;
  BerthdOptions options_;
  bool skip_ = false;
};

}  // namespace berth::testing
