#!/usr/bin/env bash
# Inside the VM: `--blkio-weight` on cgroup v2, read back from the kernel, at run and through
# `update` of a running container. berthd enables +io along the container's path itself (state
# bare: the root enables nothing). v2 has two files: io.bfq.weight (the weight as is, 10..1000)
# once the bfq scheduler is loaded, io.weight (1..10000, the weight mapped as runc maps it)
# otherwise; the `bare` state loads bfq first so both of berthd's paths are covered across the
# two states.
#   tests/vm/io-weight-check.sh BUILD_DIR
set -euo pipefail
build=$1
state=$(cat /run/berth-vm-out/state 2>/dev/null || echo systemd)
if [ "$state" = bare ]; then
  busybox modprobe bfq || { echo "io-weight-check: modprobe bfq failed" >&2; exit 1; }
fi
dir=$(mktemp -d /tmp/berth-ioweight-XXXXXX)
berth() { "$build/bin/berth" -H "unix://$dir/sock" "$@"; }
fail() { echo "io-weight-check: $*" >&2; cat "$dir/log" >&2 || true; exit 1; }
echo '{"bridge": "none"}' >"$dir/daemon.json"
"$build/bin/berthd" --data-root "$dir/data" --exec-root "$dir/exec" -H "unix://$dir/sock" \
  --config "$dir/daemon.json" >"$dir/log" 2>&1 &
daemon=$!
cleanup() {
  berth rm -f ioweight >/dev/null 2>&1 || true
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 100); do berth version >/dev/null 2>&1 && break; sleep 0.2; done
berth import "$build/tests/probe-rootfs.tar" busybox:local >/dev/null || fail "import"

expect() {  # the file's content for weight $1
  if [ -f "$cg/io.bfq.weight" ]; then echo "default $1"
  else echo "default $(( 1 + ($1 - 10) * 9999 / 990 ))"; fi
}
weight_file() { if [ -f "$cg/io.bfq.weight" ]; then echo io.bfq.weight; else echo io.weight; fi; }

berth run -d --name ioweight --blkio-weight 300 busybox:local sleep 1000 >/dev/null ||
  fail "run --blkio-weight 300"
pid=$(berth inspect -f '{{.State.Pid}}' ioweight)
cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
file=$(weight_file)
got=$(head -n 1 "$cg/$file")
[ "$got" = "$(expect 300)" ] || fail "--blkio-weight 300: $file is \"$got\", not \"$(expect 300)\""
berth update --blkio-weight 800 ioweight >/dev/null || fail "update --blkio-weight 800"
got=$(head -n 1 "$cg/$file")
[ "$got" = "$(expect 800)" ] || fail "update --blkio-weight 800: $file is \"$got\", not \"$(expect 800)\""
[ "$(berth inspect -f '{{.HostConfig.BlkioWeight}}' ioweight)" = 800 ] ||
  fail "inspect does not show BlkioWeight 800"
echo "io-weight-check: $file in $cg: 300 and, after update, 800 (\"$got\")"
