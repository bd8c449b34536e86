#include "plugin/cgroup_v2_layout.hpp"

#include <gtest/gtest.h>

namespace berth::plugins::isolation::cgroup_v2 {
namespace {

using Strings = std::vector<std::string>;

Layout plan(const std::string& own, bool host_root, bool writable,
            LayoutMode mode = LayoutMode::kAuto) {
  auto layout = plan_layout(HostView{own, host_root, writable}, mode);
  EXPECT_TRUE(layout) << (layout ? "" : layout.error().message);
  return layout ? *layout : Layout{};
}

TEST(CgroupV2Layout, OwnCgroupIsTheV2LineOfProcSelfCgroup) {
  EXPECT_EQ(*own_cgroup_from_proc("0::/system.slice/berthd.service\n"),
            "/system.slice/berthd.service");
  EXPECT_EQ(*own_cgroup_from_proc("4:memory:/x\n1:cpu:/\n0::/\n"), "/");
  EXPECT_FALSE(own_cgroup_from_proc("4:memory:/x\n1:cpu:/\n"));
  EXPECT_FALSE(own_cgroup_from_proc("0::/gone (deleted)\n"));
}

TEST(CgroupV2Layout, LayoutModeNames) {
  EXPECT_EQ(*parse_layout_mode(""), LayoutMode::kAuto);
  EXPECT_EQ(*parse_layout_mode("auto"), LayoutMode::kAuto);
  EXPECT_EQ(*parse_layout_mode("root"), LayoutMode::kRoot);
  EXPECT_EQ(*parse_layout_mode("delegated"), LayoutMode::kDelegated);
  auto bad = parse_layout_mode("systemd");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("auto, root, delegated"), std::string::npos);
}

TEST(CgroupV2Layout, NoSystemdHostUsesTheTopOfTheHierarchy) {
  auto l = plan("/", true, true);
  EXPECT_FALSE(l.delegated);
  EXPECT_EQ(l.base, "");
  EXPECT_EQ(l.daemon_leaf, "");
  // The root is exempt from the no-internal-process rule: enabling starts there.
  EXPECT_EQ(enabling_chain(l, "berth/abc"), (Strings{"", "berth"}));
  EXPECT_EQ(enabling_chain(l, "/a/b/c/"), (Strings{"", "a", "a/b"}));
}

TEST(CgroupV2Layout, SystemdServiceAsRootKeepsContainersBesideTheUnit) {
  // Containers outside berthd.service survive `systemctl restart berthd` (systemd refuses to
  // start a unit whose cgroup hands controllers down while old children still run).
  auto l = plan("/system.slice/berthd.service", true, true);
  EXPECT_FALSE(l.delegated);
  EXPECT_EQ(l.base, "");
  EXPECT_NE(l.reason.find("/system.slice/berthd.service"), std::string::npos);
}

TEST(CgroupV2Layout, CgroupNamespaceOrReadOnlyTopIsDelegated) {
  auto ns = plan("/", false, true);
  EXPECT_TRUE(ns.delegated);
  EXPECT_EQ(ns.base, "");
  EXPECT_EQ(ns.daemon_leaf, "daemon");
  EXPECT_NE(ns.reason.find("cgroup namespace"), std::string::npos);

  auto ro = plan("/user.slice/user-1000.slice/user@1000.service/app.slice/berthd.service", true,
                 false);
  EXPECT_TRUE(ro.delegated);
  EXPECT_EQ(ro.base, "user.slice/user-1000.slice/user@1000.service/app.slice/berthd.service");
  EXPECT_EQ(ro.daemon_leaf, ro.base + "/daemon");
  // Never above the delegated base.
  EXPECT_EQ(enabling_chain(ro, "berth/abc"), (Strings{ro.base, ro.base + "/berth"}));
}

TEST(CgroupV2Layout, ForcedDelegatedMovesBerthdIntoALeafOfItsUnit) {
  auto l = plan("/system.slice/berthd.service", true, true, LayoutMode::kDelegated);
  EXPECT_TRUE(l.delegated);
  EXPECT_EQ(l.base, "system.slice/berthd.service");
  EXPECT_EQ(l.daemon_leaf, "system.slice/berthd.service/daemon");
  EXPECT_EQ(enabling_chain(l, "berth/x"),
            (Strings{"system.slice/berthd.service", "system.slice/berthd.service/berth"}));
}

TEST(CgroupV2Layout, AlreadyInTheDaemonLeafKeepsItsParentAsBase) {
  // systemd's DelegateSubgroup=daemon, or a second start in the same process.
  auto l = plan("/system.slice/berthd.service/daemon", true, false);
  EXPECT_TRUE(l.delegated);
  EXPECT_EQ(l.base, "system.slice/berthd.service");
  EXPECT_EQ(l.daemon_leaf, "system.slice/berthd.service/daemon");
  auto top = plan("/daemon", false, true);
  EXPECT_EQ(top.base, "");
  EXPECT_EQ(top.daemon_leaf, "daemon");
}

TEST(CgroupV2Layout, ForcedRootOnANamespaceStaysRoot) {
  auto l = plan("/", false, true, LayoutMode::kRoot);
  EXPECT_FALSE(l.delegated);
  EXPECT_EQ(l.base, "");
}

TEST(CgroupV2Layout, RelativeOrTraversingOwnPathIsRefused) {
  EXPECT_FALSE(plan_layout(HostView{"", true, true}, LayoutMode::kAuto));
  EXPECT_FALSE(plan_layout(HostView{"system.slice", true, true}, LayoutMode::kAuto));
  EXPECT_FALSE(plan_layout(HostView{"/a/../b", true, true}, LayoutMode::kDelegated));
}

TEST(CgroupV2Layout, OnlyOfferedAndNotYetEnabledControllersAreWritten) {
  const auto& wanted = wanted_controllers();
  EXPECT_EQ(wanted, (Strings{"cpu", "memory", "pids", "io", "cpuset"}));
  // A root as a bare kernel leaves it: everything offered, nothing enabled.
  EXPECT_EQ(controllers_to_enable("cpuset cpu io memory hugetlb pids rdma misc", "", wanted),
            (Strings{"+cpu", "+memory", "+pids", "+io", "+cpuset"}));
  // As systemd leaves it: cpuset is the only one missing.
  EXPECT_EQ(controllers_to_enable("cpuset cpu io memory pids", "cpu io memory pids", wanted),
            (Strings{"+cpuset"}));
  // A hybrid host whose controllers sit in v1: only hugetlb on v2, never touched.
  EXPECT_TRUE(controllers_to_enable("hugetlb", "", wanted).empty());
  // No prefix matches: "cpu" is not "cpuset".
  EXPECT_EQ(controllers_to_enable("cpuset", "", Strings{"cpu", "cpuset"}), (Strings{"+cpuset"}));
}

TEST(CgroupV2Layout, RefusalsNameTheControllerThePlaceAndTheFix) {
  auto not_offered = missing_controller_message("memory", "/sys/fs/cgroup/x/berth/a",
                                                "/sys/fs/cgroup/x", MissingCause::kNotOffered,
                                                true);
  EXPECT_NE(not_offered.find("memory controller"), std::string::npos);
  EXPECT_NE(not_offered.find("/sys/fs/cgroup/x/cgroup.controllers"), std::string::npos);
  EXPECT_NE(not_offered.find("Delegate=yes"), std::string::npos);

  auto busy = missing_controller_message("pids", "/sys/fs/cgroup/s/berth/a", "/sys/fs/cgroup/s",
                                         MissingCause::kInternalProcesses, false);
  EXPECT_NE(busy.find("no-internal-process"), std::string::npos);
  EXPECT_NE(busy.find("leaf"), std::string::npos);

  auto ro = missing_controller_message("cpu", "/c/a", "/c", MissingCause::kNotWritable, false);
  EXPECT_NE(ro.find("/c/cgroup.subtree_control"), std::string::npos);
}

}  // namespace
}  // namespace berth::plugins::isolation::cgroup_v2
