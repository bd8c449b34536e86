#!/bin/sh
# Builds the busybox test image's root filesystem from Debian's busybox-static, never from a
# registry: a directory tree with /bin/busybox, one symlink per applet, /etc/passwd and
# /etc/group (root, nobody, a user "app" 1000:1000), and the usual empty mount points.
#
# usage: make-busybox-rootfs.sh <output.tar>     (the rootfs as an uncompressed tar)
#        make-busybox-rootfs.sh --dir <directory>  (the rootfs as a directory)
set -eu

busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-busybox-rootfs: $busybox is missing: apt-get install busybox-static" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "make-busybox-rootfs: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

mode=tar
if [ "${1:-}" = "--dir" ]; then mode=dir; shift; fi
out=${1:?usage: make-busybox-rootfs.sh [--dir] <output>}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin "$root"/etc "$root"/tmp \
  "$root"/proc "$root"/sys "$root"/dev "$root"/root "$root"/home/app "$root"/var/tmp
chmod 1777 "$root"/tmp "$root"/var/tmp
cp "$busybox" "$root"/bin/busybox
# One symlink per applet. busybox's own shell runs its applets without exec'ing anything, which
# makes these few hundred links about ten times faster than a loop of dirname/mkdir/ln processes
# (test fixtures build this tree once per test process).
"$busybox" sh -c '
  for applet in $("$0" --list-full); do
    [ "$applet" = bin/busybox ] && continue
    case $applet in */*) dir=${applet%/*}; [ -d "$1/$dir" ] || mkdir -p "$1/$dir" ;; esac
    ln -sf /bin/busybox "$1/$applet"
  done' "$busybox" "$root"
cat >"$root"/etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root"/etc/group <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
chown 1000:1000 "$root"/home/app
echo "berth-test" >"$root"/etc/hostname
# Fixed timestamps so two builds of the same busybox give the same tar, byte for byte.
find "$root" -exec touch -h -d '2024-01-01 00:00:00 UTC' {} +

if [ "$mode" = dir ]; then
  mkdir -p "$out"
  cp -a "$root"/. "$out"/
else
  tar --sort=name --numeric-owner --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime='2024-01-01 00:00:00 UTC' -C "$root" -cf "$out" .
fi
