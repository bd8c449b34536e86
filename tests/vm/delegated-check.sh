#!/usr/bin/env bash
# Inside the VM: berthd with cgroup-layout "delegated" alone in a cgroup of its own, as systemd
# starts a Delegate=yes service; berthd moves into <own>/daemon either way. When the root hands
# memory down to that cgroup (state systemd) a container gets its limits under berthd's cgroup;
# when it does not (state bare, before anything enabled it) the limit is refused naming the
# controller and Delegate=yes. guest-suite.sh runs this first, before other berthds enable
# controllers at the root.
#   tests/vm/delegated-check.sh BUILD_DIR
set -euo pipefail
build=$1
offered=no
grep -qw memory /sys/fs/cgroup/cgroup.subtree_control && offered=yes
cg=/sys/fs/cgroup/berth-delegated.service
dir=$(mktemp -d /tmp/berth-delegated-XXXXXX)
berth() { "$build/bin/berth" -H "unix://$dir/sock" "$@"; }
fail() { echo "delegated-check: $*" >&2; cat "$dir/log" >&2 || true; exit 1; }
mkdir -p "$cg"
cat >"$dir/daemon.json" <<JSON
{"plugins": {"isolation.linux": {"cgroup-parent": "berth", "cgroup-layout": "delegated"}}, "bridge": "none"}
JSON
sh -c "echo \$\$ > $cg/cgroup.procs && exec $build/bin/berthd --data-root $dir/data \
  --exec-root $dir/exec -H unix://$dir/sock --config $dir/daemon.json" >"$dir/log" 2>&1 &
daemon=$!
cleanup() {
  berth rm -f deleg >/dev/null 2>&1 || true
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  rmdir "$cg/berth" "$cg/daemon" "$cg" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do berth version >/dev/null 2>&1 && break; sleep 0.2; done
berth import "$build/tests/probe-rootfs.tar" busybox:local >/dev/null
[ "$(cat /proc/$daemon/cgroup)" = "0::/berth-delegated.service/daemon" ] ||
  fail "berthd is in $(cat /proc/$daemon/cgroup), not its leaf"
if [ "$offered" = yes ]; then
  berth run -d --name deleg --memory 32m --pids-limit 20 busybox:local sleep 100 >/dev/null ||
    fail "run with limits under a delegated cgroup"
  pid=$(berth inspect -f '{{.State.Pid}}' deleg)
  path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
  case "$path" in /berth-delegated.service/berth/*) ;; *) fail "container in $path" ;; esac
  [ "$(cat "/sys/fs/cgroup$path/memory.max")" = 33554432 ] || fail "memory.max not set"
  [ "$(cat "/sys/fs/cgroup$path/pids.max")" = 20 ] || fail "pids.max not set"
  echo "delegated-check: limits applied in /sys/fs/cgroup$path"
else
  if out=$(berth run --rm --memory 32m busybox:local true 2>&1); then
    fail "a memory limit without a memory controller was accepted"
  fi
  case "$out" in *"memory controller"*"Delegate=yes"*) ;; *) fail "refusal lacks the fix: $out" ;; esac
  echo "delegated-check: refused as expected: $out"
fi
