#!/usr/bin/env bash
# Inside the VM booted with a real systemd as PID 1 (run-vm.sh --init systemd): berthd installed
# from the build tree as a systemd service, as a user would run it.
#   1. berthd.service and berthd.socket (the build tree's, ExecStart pointed at build/bin by a
#      drop-in) in /etc/systemd/system; `systemctl start berthd` returns once berthd sent
#      READY=1 (Type=notify); /run/berth.sock is root:berth 0660.
#   2. Under Delegate=yes: a memory limit and a blkio weight land in a container's cgroup.
#   3. A detached container survives `systemctl restart berthd` (KillMode=process): same PID,
#      re-adopted by the new berthd (ps, inspect, exec).
#   4. `systemctl stop berthd.service` leaves it running; berthd.socket still listens, and the
#      next client's connection starts berthd.service again (socket activation).
#   tests/vm/systemd-check.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: systemd-check.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
units=/etc/systemd/system
sock=/run/berth.sock
berth() { "$build/bin/berth" -H "unix://$sock" "$@"; }
step() { echo "systemd-check: $*"; }
fail() {
  echo "systemd-check: FAILED: $*" >&2
  systemctl status --no-pager berthd.service berthd.socket >&2 || true
  journalctl --no-pager -o short-monotonic -u berthd.service -n 40 >&2 || true
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
main_pid() { systemctl show -p MainPID --value berthd.service; }
state_of() { systemctl is-active "$1" || true; }

[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is $(cat /proc/1/comm), not systemd"

# 1. Install and start.
[ -f "$build/contrib/systemd/berthd.service" ] || fail "no $build/contrib/systemd/berthd.service"
install -m 644 "$build/contrib/systemd/berthd.service" "$src/contrib/systemd/berthd.socket" "$units/"
mkdir -p "$units/berthd.service.d" /etc/berth
printf '[Service]\nExecStart=\nExecStart=%s/bin/berthd -H fd://\n' "$build" \
  >"$units/berthd.service.d/build-tree.conf"
# No default bridge: the VM has no network to give containers and needs none.
echo '{"bridge": "none"}' >/etc/berth/daemon.json
getent group berth >/dev/null || groupadd --system berth
# enable reloads systemd's configuration (the new units and the drop-in) as well.
systemctl enable berthd.socket berthd.service 2>&1
step "units installed and enabled"
t=$(now)
systemctl start berthd.service || fail "systemctl start berthd"
step "systemctl start berthd returned after $(since "$t") (Type=notify: READY=1 sent)"
[ "$(state_of berthd.service)" = active ] || fail "berthd.service is $(state_of berthd.service)"
[ "$(state_of berthd.socket)" = active ] || fail "berthd.socket is $(state_of berthd.socket)"
perm=$(stat -c '%U:%G %a' "$sock")
[ "$perm" = "root:berth 660" ] || fail "$sock is $perm, not root:berth 660"
pid1=$(main_pid)
daemon_cg=$(sed -n 's/^0:://p' "/proc/$pid1/cgroup")
step "berthd $pid1 in $daemon_cg; $sock $perm"
case "$daemon_cg" in /system.slice/berthd.service*) ;; *) fail "berthd runs in $daemon_cg" ;; esac
berth version >/dev/null || fail "berth version"

sh "$src/tests/images/make-busybox-rootfs.sh" /tmp/busybox-rootfs.tar
berth import /tmp/busybox-rootfs.tar busybox:local >/dev/null || fail "import the busybox image"

# 2. and 3. A container with limits (berthd enabled the controllers it needs in its delegated
# service) survives systemctl restart berthd.
berth run -d --name keeper --memory 32m --blkio-weight 300 busybox:local sleep 100000 >/dev/null ||
  fail "run -d keeper with --memory 32m --blkio-weight 300"
cpid=$(berth inspect -f '{{.State.Pid}}' keeper)
kill -0 "$cpid" || fail "keeper's pid $cpid is not running"
ccg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$cpid/cgroup")
mem=$(cat "$ccg/memory.max")
[ "$mem" = 33554432 ] || fail "memory.max is $mem, not 33554432"
# v2: io.bfq.weight takes the weight as is; io.weight's range 1..10000 is mapped as runc does.
io=$(cat "$ccg/io.bfq.weight" 2>/dev/null || cat "$ccg/io.weight")
case "$io" in
  "default 300"|"default $(( 1 + (300 - 10) * 9999 / 990 ))") ;;
  *) fail "--blkio-weight 300 gave io weight \"$io\" in $ccg" ;;
esac
step "keeper runs as pid $cpid in $ccg: memory.max $mem, io weight \"$io\""
t=$(now)
systemctl restart berthd.service || fail "systemctl restart berthd"
step "systemctl restart berthd took $(since "$t")"
pid2=$(main_pid)
[ "$pid2" != "$pid1" ] && [ "$pid2" != 0 ] || fail "berthd's main pid did not change ($pid1 -> $pid2)"
kill -0 "$cpid" 2>/dev/null || fail "keeper's pid $cpid died with the restart"
[ "$(berth inspect -f '{{.State.Running}} {{.State.Pid}}' keeper)" = "true $cpid" ] ||
  fail "after the restart keeper is $(berth inspect -f '{{.State.Status}} {{.State.Pid}}' keeper)"
berth ps | grep -q keeper || fail "berth ps does not list keeper after the restart"
[ "$(berth exec keeper echo readopted)" = readopted ] || fail "exec in keeper after the restart"
step "after the restart (berthd $pid1 -> $pid2) keeper still runs as $cpid: ps, inspect, exec work"

# 4. systemctl stop leaves the container; the socket starts berthd again.
systemctl stop berthd.service 2>&1 || fail "systemctl stop berthd.service"
[ "$(state_of berthd.service)" != active ] || fail "berthd.service still active after stop"
[ "$(state_of berthd.socket)" = active ] || fail "berthd.socket stopped with the service"
kill -0 "$cpid" 2>/dev/null || fail "keeper's pid $cpid died with systemctl stop berthd"
step "stopped: berthd.service $(state_of berthd.service), berthd.socket active, keeper alive"
t=$(now)
out=$(berth ps) || fail "berth ps through the socket did not start berthd"
step "socket activation: the first berth ps answered after $(since "$t")"
[ "$(state_of berthd.service)" = active ] || fail "berthd.service is $(state_of berthd.service)"
pid3=$(main_pid)
echo "$out" | grep -q keeper || fail "berth ps after socket activation lacks keeper: $out"
[ "$(berth inspect -f '{{.State.Running}} {{.State.Pid}}' keeper)" = "true $cpid" ] ||
  fail "after socket activation keeper is $(berth inspect -f '{{.State.Status}} {{.State.Pid}}' keeper)"
step "berthd $pid3 started by the socket re-adopted keeper ($cpid)"

berth rm -f keeper >/dev/null || fail "rm -f keeper"
systemctl stop berthd.socket berthd.service
step "berthd's journal (journald keeps its lines readable):"
journalctl --no-pager -o cat -u berthd.service | tail -n 8
step "passed"
