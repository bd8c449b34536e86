#!/usr/bin/env bash
# Runs inside the VM (run-vm.sh -- tests/vm/guest-suite.sh BUILD_DIR): the tests that touch the
# kernel, on Debian 12's kernel with a unified cgroup v2 hierarchy. They are the host's test
# binaries run straight from the build tree (shared read-only over 9p; writes go to the VM's
# tmpfs overlay), each with a gtest filter: the CI run under TCG must stay small, so the subset is
# the part of each suite that depends on the kernel and its cgroup version (limits, OOM, pids,
# cpu, io weights, freezer, stats, update, devices, user namespaces, overlay, live restore), not the parts
# that only exercise berthd's own logic (covered on the host).
#
# Exit status: 0 when every selected test passed; the failing suites are named on stderr.
set -uo pipefail
build=${1:?usage: guest-suite.sh BUILD_DIR}
tests="$build/tests"

# A hard fact first: the hierarchy really is v2 only, so nothing below passes on a v1 fallback.
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
  echo "guest-suite.sh: /sys/fs/cgroup is not cgroup2" >&2
  exit 1
fi

state=$(cat /run/berth-vm-out/state 2>/dev/null || echo systemd)

# What depends on the cgroup state runs in both states; what does not (user namespaces, overlay,
# seccomp, re-adoption, systemd, the kernel floor) once, in the systemd state.
conformance=(
  InfoReportsCgroupVersionAndCapabilities
  ExitCodeIsReported
  PausedContainerMakesNoProgress
  KillOfPausedContainerLands
  StatsPidsAndUpdate
  MemoryLimitOomKillsAHog
  PidsLimitStopsAForkBomb
  DockerDeviceRulesAndSysctl
)
integration=(
  MemoryLimitOomKillsAHog
  PidsLimitStopsAForkBomb
  PauseFreezesAndUnpauseResumes
  WaitStatsRenameAndPrune
  DeviceCgroupKeepsHostDevicesOut
)
limits=(
  '*'
)
if [ "$state" = systemd ]; then
  conformance+=(OverlayRootfsKeepsWritesInTheUpperDir UserNamespaceRemapsRoot
                NewInstanceReadoptsRunningContainers SeccompDefaultProfileBlocksKeyctl)
  integration+=(LiveRestoreAfterKillMinus9 UsernsRemapMakesRootAnUnprivilegedHostUser)
fi

filter() {
  local fixture=$1
  shift
  local f=""
  for t in "$@"; do f+="${f:+:}$fixture.$t"; done
  echo "$f"
}

failed=()
run() {
  local name=$1
  shift
  local start
  start=$(date +%s)
  echo "=== $name"
  if "$@"; then
    echo "=== $name passed ($(( $(date +%s) - start )) s)"
  else
    echo "=== $name FAILED ($(( $(date +%s) - start )) s)"
    failed+=("$name")
  fi
}

# First: berthd alone in a Delegate=yes-like cgroup with cgroup-layout "delegated", while the
# root still has only what the state gave it.
run delegated_layout "$(dirname "$0")/delegated-check.sh" "$build"
# --blkio-weight at run and update: io.weight here, io.bfq.weight in state bare (bfq loaded).
run io_weight "$(dirname "$0")/io-weight-check.sh" "$build"
run isolation_linux_conformance "$tests/isolation_linux_conformance_test" --gtest_brief=1 \
  --gtest_filter="$(filter IsolationLinux "${conformance[@]}")"
run integration_containers "$tests/berth_integration_containers" --gtest_brief=1 \
  --gtest_filter="$(filter Containers "${integration[@]}")"
run integration_cgroup_limits "$tests/berth_integration_cgroup_limits" --gtest_brief=1 \
  --gtest_filter="$(filter CgroupLimits "${limits[@]}")"
if [ "$state" = systemd ]; then
  # The kernel floor on 6.1 (berthd's startup probes), and socket activation with sd_notify.
  run kernel_floor "$tests/berth_common_unit_tests" --gtest_brief=1 --gtest_filter='KernelFloor.*'
  run integration_systemd "$tests/berth_integration_systemd" --gtest_brief=1
  # --storage-opt size on btrfs qgroups and on xfs project quotas (the host's kernel has no xfs
  # quotas, Debian's has): required here, so a skip would be a failure.
  run storage_opt_size env BERTH_REQUIRE_XFS_QUOTA=1 "$tests/berth_integration_btrfs" --gtest_brief=1 \
    --gtest_filter='BtrfsDaemonTest.StorageOptSize*'
fi

echo "guest-suite.sh: root cgroup.subtree_control after the run:" \
  "$(cat /sys/fs/cgroup/cgroup.subtree_control)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "guest-suite.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "guest-suite.sh: all selected tests passed"
