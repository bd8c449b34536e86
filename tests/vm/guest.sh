#!/bin/bash
# PID 1 of the VM once the host's root is mounted (tests/vm/initramfs-init.sh hands over here):
# the mounts a booted Debian 12 would have (cgroup2 alone at /sys/fs/cgroup, tmpfs where tests
# write), the host state asked for, then the command from run-vm.sh; its exit status goes to the
# shared result directory and the VM powers off.
out=/run/berth-vm-out
finish() {
  echo "$1" >"$out/status"
  sync
  echo o >/proc/sysrq-trigger 2>/dev/null
  busybox poweroff -f
}
trap 'finish 1' ERR
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
for d in /var/tmp /var/lib/berth /var/run/berth /root; do
  mkdir -p "$d"
  mount -t tmpfs -o mode=1777 tmpfs "$d"
done
chmod 700 /root
mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
kver=$(uname -r)
cache=$(dirname "$(readlink -f "$out")")
# Modules of the booted kernel, from run-vm.sh's cache (on the shared host root).
for c in /var/cache/berth-vm ${BERTH_VM_CACHE:-}; do
  if [ -d "$c/$kver/root/lib/modules/$kver" ]; then
    mkdir -p "/lib/modules/$kver"
    mount --bind "$c/$kver/root/lib/modules/$kver" "/lib/modules/$kver"
    break
  fi
done
for m in loop veth bridge br_netfilter nf_tables nft_chain_nat nft_ct nft_masq nft_nat nf_nat \
         nft_reject_inet nft_fib_inet tun dummy xt_conntrack xt_MASQUERADE iptable_nat \
         iptable_filter ip6table_filter sch_htb; do
  busybox modprobe "$m" 2>/dev/null || true
done
# /tmp on the scratch disk run-vm.sh attaches (ext4): tests keep their data-roots there, and 6.1's
# tmpfs cannot be idmapped (tmpfs gained idmapped mounts in 6.3), which userns-remap needs.
# ext4 asks the crypto API for crc32c, which would need kmod's indexes: load it by hand.
for m in virtio_blk crc32c_generic crc32c-intel libcrc32c ext4; do
  busybox modprobe "$m" || echo "berth-vm: modprobe $m failed"
done
# btrfs and xfs need crc32c too (loaded just above); the --storage-opt size tests use both.
for m in btrfs xfs; do
  busybox modprobe "$m" || echo "berth-vm: modprobe $m failed"
done
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.5; done
# A checkout under the host's /tmp (a CI clone in /tmp/...) would vanish under the scratch /tmp:
# keep the host's /tmp reachable, and bind the top directories the command uses back into place.
mkdir -p /run/berth-vm-hosttmp
mount --bind /tmp /run/berth-vm-hosttmp
{ cat "$out/command"; [ -f "$out/cwd" ] && printf '%s\0' "$(cat "$out/cwd")"; } | tr '\0' '\n' |
  { grep '^/tmp/.' || true; } | cut -d/ -f3 | sort -u >/run/berth-vm-host-tmp-dirs
if [ -b /dev/vda ] && mount -t ext4 /dev/vda /tmp; then
  chmod 1777 /tmp
else
  echo "berth-vm: no scratch disk: /tmp on tmpfs (userns-remap cannot idmap it on 6.1)"
  mount -t tmpfs -o mode=1777 tmpfs /tmp
fi
while IFS= read -r d; do
  [ -d "/run/berth-vm-hosttmp/$d" ] || continue
  mkdir -p "/tmp/$d"
  mount --bind "/run/berth-vm-hosttmp/$d" "/tmp/$d"
done </run/berth-vm-host-tmp-dirs
ip link set lo up
hostname berth-vm
: >/etc/mtab 2>/dev/null || true

state=$(cat "$out/state")
controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
case "$state" in
  systemd)
    # What systemd leaves: cpu io memory pids handed down from the root (cpuset only when a unit
    # asks), system.slice with the same, and every process in a leaf unit.
    echo "+cpu +io +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
    mkdir -p /sys/fs/cgroup/init.scope /sys/fs/cgroup/system.slice/berth-test.service
    echo "+cpu +io +memory +pids" >/sys/fs/cgroup/system.slice/cgroup.subtree_control
    echo $$ >/sys/fs/cgroup/system.slice/berth-test.service/cgroup.procs
    ;;
  bare) ;;
esac
echo "berth-vm: kernel $kver, cgroup2 controllers: $controllers;" \
  "root subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

mapfile -d '' cmd <"$out/command"
cd "$(cat "$out/cwd" 2>/dev/null || echo /)"
set +e
trap - ERR
"${cmd[@]}"
rc=$?
echo "berth-vm: exit status $rc"
finish "$rc"
