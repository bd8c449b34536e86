#!/usr/bin/env bash
# Fetches Debian 12's stock kernel (the package linux-image-amd64 depends on) with
# `apt-get download` into CACHE, unpacks it with dpkg-deb -x (never installed on this host),
# indexes its modules with busybox depmod, and builds a small initramfs: busybox-static, the
# virtio/9p/overlay modules and tests/vm/initramfs-init.sh. Idempotent; writes the kernel's
# version to CACHE/current.
#   tests/vm/prepare-kernel.sh CACHE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: prepare-kernel.sh CACHE}
mkdir -p "$cache"
cd "$cache"

pkg=${BERTH_VM_KERNEL_PACKAGE:-}
if [ -z "$pkg" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
if [ -z "$pkg" ]; then
  # A fresh machine whose package lists are not downloaded yet.
  apt-get update -qq
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[ -n "$pkg" ] || { echo "prepare-kernel.sh: no linux-image-amd64 in the apt sources" >&2; exit 1; }
kver=${pkg#linux-image-}
kdir="$cache/$kver"

if [ ! -f "$kdir/vmlinuz" ]; then
  deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    echo "prepare-kernel.sh: apt-get download $pkg" >&2
    # _apt cannot write a root-owned cache: download as root, quietly.
    (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null)
    deb=$(ls "$cache"/"${pkg}"_*.deb | head -n1)
  fi
  rm -rf "$kdir.tmp"
  mkdir -p "$kdir.tmp/root"
  dpkg-deb -x "$deb" "$kdir.tmp/root"
  echo "prepare-kernel.sh: indexing the modules of $kver (busybox depmod, ~30 s once)" >&2
  busybox depmod -b "$kdir.tmp/root" "$kver"
  cp "$kdir.tmp/root/boot/vmlinuz-$kver" "$kdir.tmp/vmlinuz"
  rm -rf "$kdir"
  mv "$kdir.tmp" "$kdir"
fi

# The initramfs is rebuilt when its init script changes (cheap: a few hundred KB).
init_sum=$(sha256sum "$here/initramfs-init.sh" | cut -c1-16)
if [ ! -f "$kdir/initramfs.cpio.gz" ] || [ "$(cat "$kdir/initramfs.sum" 2>/dev/null)" != "$init_sum" ]; then
  stage=$(mktemp -d /tmp/berth-vm-initramfs-XXXXXX)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{bin,proc,sys,dev,host,out,newroot,upper,modules}
  cp "$(command -v busybox)" "$stage/bin/busybox"
  moddir="$kdir/root/lib/modules/$kver"
  # The 9p root and the overlay on top of it, in dependency order (modules.dep lists a module's
  # dependencies after it, so they are loaded from the end).
  : >"$stage/modules/order"
  for m in kernel/drivers/virtio/virtio_pci.ko kernel/net/9p/9pnet_virtio.ko kernel/fs/9p/9p.ko \
           kernel/fs/overlayfs/overlay.ko; do
    deps=$(awk -v m="$m:" '$1==m {for (i=NF; i>1; i--) print $i}' "$moddir/modules.dep")
    for d in $deps $m; do
      grep -qx "$d" "$stage/modules/order" && continue
      cp "$moddir/$d" "$stage/modules/$(basename "$d")"
      echo "$d" >>"$stage/modules/order"
    done
  done
  cp "$here/initramfs-init.sh" "$stage/init"
  chmod 755 "$stage/init"
  (cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$kdir/initramfs.cpio.gz"
  echo "$init_sum" >"$kdir/initramfs.sum"
fi
echo "$kver" >"$cache/current"
