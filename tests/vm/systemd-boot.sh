#!/bin/bash
# PID 1 of the VM for `run-vm.sh --init systemd` (tests/vm/initramfs-init.sh hands over here):
# readies the overlay root (the host's root, read-only over 9p, under a tmpfs upper) for the
# host's own systemd, then execs /lib/systemd/systemd as PID 1. systemd boots to
# berth-vm.target: basic.target plus berth-vm-command.service, which runs run-vm.sh's command,
# writes its exit status to the shared result directory and powers the VM off.
#
# Every change is in the VM's tmpfs upper layer, never on the host: the host's unit enablements
# (*.wants) are removed, the units that would be slow or harmful in a VM (networking, getty,
# time sync, timers, the host's own daemons) are masked.
out=/run/berth-vm-out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
fail() {
  echo "systemd-boot: $*"
  echo 1 >"$out/status"
  sync
  echo o >/proc/sysrq-trigger 2>/dev/null
  busybox poweroff -f
}
trap 'fail "failed at line $LINENO"' ERR
set -eu
mount -t proc proc /proc
[ -x /lib/systemd/systemd ] ||
  fail "/lib/systemd/systemd is missing on the host (apt-get install systemd)"

# /run as systemd would mount it, with the result directory moved under it: systemd mounts a
# tmpfs on /run only when /run is not a mount point already, which would hide the result dir.
mkdir -p /.berth-vm-out
mount --move "$out" /.berth-vm-out
mount -t tmpfs -o mode=755,nosuid,nodev,size=20% tmpfs /run
mkdir -p "$out"
mount --move /.berth-vm-out "$out"
rmdir /.berth-vm-out

# The booted kernel's modules, from run-vm.sh's cache on the shared host root.
kver=$(uname -r)
cache=$(cat "$out/cache" 2>/dev/null || echo /var/cache/berth-vm)
if [ -d "$cache/$kver/root/lib/modules/$kver" ]; then
  mkdir -p "/lib/modules/$kver"
  mount --bind "$cache/$kver/root/lib/modules/$kver" "/lib/modules/$kver"
fi
# A checkout under the host's /tmp (a CI clone in /tmp/...) would vanish under the VM's /tmp:
# keep the host's /tmp reachable and bind the top directories the command uses back into place
# (as guest.sh does). Bind mounts also stop systemd-tmpfiles' boot-time emptying of /tmp.
mkdir -p /run/berth-vm-hosttmp
mount --bind /tmp /run/berth-vm-hosttmp
host_tmp_dirs=$(
  {
    cat "$out/command"
    if [ -f "$out/cwd" ]; then printf '%s\0' "$(cat "$out/cwd")"; fi
  } | tr '\0' '\n' | { grep '^/tmp/.' || true; } | cut -d/ -f3 | sort -u
)
# berthd's data root and the tests' scratch space: tmpfs (an overlay upper dir cannot be on the
# overlay root itself).
for d in /var/lib/berth /var/tmp /tmp; do
  mkdir -p "$d"
  mount -t tmpfs -o mode=1777 tmpfs "$d"
done
for d in $host_tmp_dirs; do
  [ -d "/run/berth-vm-hosttmp/$d" ] || continue
  mkdir -p "/tmp/$d"
  mount --bind "/run/berth-vm-hosttmp/$d" "/tmp/$d"
done
chmod 755 /var/lib/berth

units=/etc/systemd/system
# The host's enablements would start its daemons (docker, podman, postgresql, ssh, timers).
rm -rf "$units"/*.wants
for u in systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
         systemd-resolved.service networking.service NetworkManager.service ifupdown-pre.service \
         systemd-timesyncd.service getty@tty1.service serial-getty@ttyS0.service \
         console-getty.service getty.target ssh.service sshd.service apparmor.service \
         systemd-pstore.service docker.socket docker.service containerd.service podman.socket \
         podman.service postgresql.service docker-registry.service cron.service timers.target \
         systemd-hwdb-update.service ldconfig.service systemd-journal-catalog-update.service \
         systemd-update-done.service systemd-firstboot.service remote-fs.target \
         e2scrub_reap.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount; do
  ln -sf /dev/null "$units/$u"
done
: >/etc/fstab
# The host's root is a container image's: without its marker systemd sees the VM it runs in
# (and starts udev as on a real machine) rather than a docker container.
rm -f /.dockerenv /run/.containerenv
echo berth-vm >/etc/hostname
mkdir -p /etc/systemd/system.conf.d
cat >/etc/systemd/system.conf.d/berth-vm.conf <<'EOF'
# A VM that must power off promptly once its command ran (TCG is slow).
[Manager]
DefaultTimeoutStartSec=120s
DefaultTimeoutStopSec=15s
EOF

cat >"$units/berth-vm-command.service" <<EOF
[Unit]
Description=run-vm.sh's command
After=basic.target
# A command that cannot even start (a missing script) powers the VM off at once: run-vm.sh then
# reports no exit status instead of waiting out its timeout.
FailureAction=poweroff-force

[Service]
Type=exec
ExecStart=/bin/bash $(dirname "$0")/systemd-command.sh
StandardOutput=journal+console
StandardError=journal+console
EOF
cat >"$units/berth-vm.target" <<'EOF'
[Unit]
Description=The VM's boot target: basic.target and run-vm.sh's command
Requires=basic.target berth-vm-command.service
After=basic.target
AllowIsolate=yes
EOF
ln -sf berth-vm.target "$units/default.target"

umount /proc
exec /lib/systemd/systemd
