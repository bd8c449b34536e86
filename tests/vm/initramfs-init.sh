#!/bin/busybox sh
# PID 1 of the VM's initramfs: loads the virtio/9p/overlay modules, mounts the host's root
# (read-only 9p, tag "hostroot") under a tmpfs overlay, and hands over to the guest script named
# on the kernel command line (berth.guest=/path/in/the/host/root).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "initramfs: $*"; echo 1 >/out/status 2>/dev/null; poweroff -f; }
for m in $(sed 's|.*/||' /modules/order); do insmod "/modules/$m" || fail "insmod $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host ||
  fail "mount the host root over 9p"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /out || fail "mount the result dir"
mount -t tmpfs -o mode=755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
  fail "overlay the host root"
guest=$(sed -n 's/.*berth\.guest=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /newroot/run/berth-vm-out
mount --move /out /newroot/run/berth-vm-out
umount /proc /sys /dev 2>/dev/null
exec switch_root /newroot /bin/bash "$guest"
