#!/usr/bin/env bash
# The ctest `vm` label: boots Debian 12's kernel twice (run-vm.sh) and runs guest-suite.sh in
# each host state: `systemd` (cpu io memory pids enabled at the root, berthd in a service's
# cgroup) and `bare` (nothing enabled: berthd must enable what it needs along its path).
#   tests/vm/run-suite.sh BUILD_DIR [STATE...]
# Skips (exit 77, ctest SKIP_RETURN_CODE) when not root or qemu/busybox are missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run-suite.sh BUILD_DIR [STATE...]}" && pwd)
shift
states=("$@")
[ ${#states[@]} -gt 0 ] || states=(systemd bare)

if [ "$(id -u)" -ne 0 ]; then echo "run-suite.sh: needs root (skipped)"; exit 77; fi
for tool in qemu-system-x86_64 busybox; do
  command -v "$tool" >/dev/null || { echo "run-suite.sh: no $tool (skipped)"; exit 77; }
done

rc=0
accel_file=$(mktemp /tmp/berth-vm-accel-XXXXXX)
trap 'rm -f "$accel_file"' EXIT
for state in "${states[@]}"; do
  start=$(date +%s)
  # KVM is probed once (20 s when it does not work), then reused for the next state.
  if [ -z "${BERTH_VM_ACCEL:-}" ] && [ -s "$accel_file" ]; then
    export BERTH_VM_ACCEL=$(cat "$accel_file")
  fi
  if BERTH_VM_ACCEL_FILE=$accel_file "$here/run-vm.sh" --state "$state" -- \
       "$here/guest-suite.sh" "$build"; then
    echo "run-suite.sh: state $state passed ($(( $(date +%s) - start )) s)"
  else
    echo "run-suite.sh: state $state FAILED ($(( $(date +%s) - start )) s)"
    rc=1
  fi
done
exit $rc
