#!/usr/bin/env bash
# The ctest vm_systemd_debian12: boots Debian 12's kernel with the host's own systemd as PID 1
# (run-vm.sh --init systemd) and runs systemd-check.sh inside: berthd.service and berthd.socket
# from the build tree, containers kept across `systemctl restart berthd`, socket activation.
#   tests/vm/run-systemd-check.sh BUILD_DIR
# Skips (exit 77, ctest SKIP_RETURN_CODE) when not root, or qemu, busybox or systemd are missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run-systemd-check.sh BUILD_DIR}" && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "run-systemd-check.sh: needs root (skipped)"; exit 77; fi
for tool in qemu-system-x86_64 busybox; do
  command -v "$tool" >/dev/null || { echo "run-systemd-check.sh: no $tool (skipped)"; exit 77; }
done
[ -x /lib/systemd/systemd ] || {
  echo "run-systemd-check.sh: no /lib/systemd/systemd (apt-get install systemd; skipped)"; exit 77; }
start=$(date +%s)
"$here/run-vm.sh" --init systemd -- "$here/systemd-check.sh" "$build"
rc=$?
echo "run-systemd-check.sh: $([ $rc -eq 0 ] && echo passed || echo FAILED) ($(( $(date +%s) - start )) s)"
exit $rc
