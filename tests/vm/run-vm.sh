#!/usr/bin/env bash
# Boots Debian 12's own kernel (the linux-image-amd64 of the apt sources: 6.1) under qemu with
# this machine's root shared read-only over 9p and a tmpfs overlay on top for everything
# writable, mounts a unified cgroup v2 hierarchy, and runs one command inside. The command's
# output comes back on the serial console (this script's stdout) and its exit status becomes
# this script's. Nothing is installed on the host: the kernel package is fetched with
# `apt-get download` and unpacked into a cache directory.
#
#   tests/vm/run-vm.sh [--state systemd|bare] [--init shell|systemd] [--mem MB] [--cpus N] \
#                      -- COMMAND [ARG...]
#
#   --state systemd  the root cgroup enables cpu io memory pids (as systemd leaves it) and the
#                    command runs in /system.slice/berth-test.service, like a service would
#   --state bare     nothing enabled at the root, the command in the root cgroup (no systemd,
#                    a minimal or nested host): berthd must enable what it needs itself
#   --init shell     (default) a shell script is PID 1 (guest.sh), set up as --state says
#   --init systemd   the host's own systemd boots as PID 1 (systemd-boot.sh; --state is then
#                    what systemd makes of it) and runs the command as a service
#                    (systemd-command.sh); the scratch disk is unused
#
# Environment: BERTH_VM_CACHE (default /var/cache/berth-vm: kernel package, unpacked modules,
# initramfs), BERTH_VM_ACCEL (kvm|tcg; default kvm when a kernel boots under it, else tcg),
# BERTH_VM_TIMEOUT (seconds, default 900), BERTH_VM_ACCEL_FILE (where the chosen accel is
# written). Needs root (the 9p export of / reads every file),
# qemu-system-x86 and busybox-static (scripts/install-deps.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
state=systemd
init=shell
mem=2048
cpus=2
while [ $# -gt 0 ]; do
  case "$1" in
    --state) state=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run-vm.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "run-vm.sh: no command given (… -- COMMAND)" >&2; exit 2; }
case "$state" in systemd|bare) ;; *) echo "run-vm.sh: --state is systemd or bare" >&2; exit 2 ;; esac
guest=$here/guest.sh
cmdline_init=""
case "$init" in
  shell) ;;
  systemd) guest=$here/systemd-boot.sh; cmdline_init="systemd.show_status=error" ;;
  *) echo "run-vm.sh: --init is shell or systemd" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "run-vm.sh: run as root" >&2; exit 2; }
for tool in qemu-system-x86_64 busybox apt-get dpkg-deb mkfs.ext4; do
  command -v "$tool" >/dev/null || {
    echo "run-vm.sh: $tool is missing: run scripts/install-deps.sh" >&2; exit 2; }
done

cache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
mkdir -p "$cache"
"$here/prepare-kernel.sh" "$cache" >&2
kver=$(cat "$cache/current")
kdir="$cache/$kver"

out=$(mktemp -d /tmp/berth-vm-XXXXXX)
cleanup() { rm -rf "$out"; }
trap cleanup EXIT
printf "%s\0" "$@" >"$out/command"
pwd >"$out/cwd"
echo "$state" >"$out/state"
echo "$kver" >"$out/kernel"
echo "$cache" >"$out/cache"

# The scratch disk for /tmp in the guest: a sparse ext4 image, gone with $out.
truncate -s "${BERTH_VM_SCRATCH:-8G}" "$out/scratch.img"
mkfs.ext4 -q -F -m 0 -E lazy_itable_init=1,lazy_journal_init=1 "$out/scratch.img"

accel=${BERTH_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  # KVM only when a kernel really boots under it: a nested host can open /dev/kvm and then hang
  # the guest before its first line. The probe waits for "Linux version" (early printk), 20 s.
  if [ -w /dev/kvm ]; then
    probe_log="$out/kvm-probe.log"
    qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nodefaults -no-user-config \
      -display none -no-reboot -nic none -serial "file:$probe_log" -monitor none \
      -kernel "$kdir/vmlinuz" -append "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1" \
      >/dev/null 2>&1 &
    probe_pid=$!
    for _ in $(seq 40); do
      if grep -q "Linux version" "$probe_log" 2>/dev/null; then accel=kvm; break; fi
      kill -0 "$probe_pid" 2>/dev/null || break
      sleep 0.5
    done
    kill "$probe_pid" 2>/dev/null || true
    wait "$probe_pid" 2>/dev/null || true
    [ "$accel" = kvm ] || echo "run-vm.sh: KVM does not boot a kernel here: TCG" >&2
  fi
fi
# run-suite.sh boots several VMs: the probe's answer is passed on to the next boot.
[ -n "${BERTH_VM_ACCEL_FILE:-}" ] && echo "$accel" >"$BERTH_VM_ACCEL_FILE"
cpu=max
[ "$accel" = kvm ] && cpu=host

echo "run-vm.sh: booting $kver ($accel, ${mem}M, $cpus cpus, init $init, state $state): $*" >&2
start=$(date +%s)
set +e
timeout --foreground "${BERTH_VM_TIMEOUT:-900}" qemu-system-x86_64 \
  -accel "$accel" -cpu "$cpu" -m "$mem" -smp "$cpus" \
  -nodefaults -no-user-config -display none -no-reboot -nic none \
  -serial stdio -monitor none \
  -kernel "$kdir/vmlinuz" -initrd "$kdir/initramfs.cpio.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all rdinit=/init berth.guest=$guest $cmdline_init" \
  -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
  -fsdev local,id=out,path="$out",security_model=none,multidevs=remap \
  -device virtio-9p-pci,fsdev=out,mount_tag=out \
  -drive file="$out/scratch.img",format=raw,if=virtio,cache=unsafe,discard=unmap \
  -device virtio-rng-pci
qemu_rc=$?
set -e
echo "run-vm.sh: the VM ran $(( $(date +%s) - start )) s (qemu exit $qemu_rc)" >&2
if [ ! -f "$out/status" ]; then
  echo "run-vm.sh: the guest left no exit status (qemu exit $qemu_rc; a timeout is 124)" >&2
  exit 1
fi
exit "$(cat "$out/status")"
