#!/bin/bash
# What healthchecks cost the daemon: N running containers (default 50), first without and then
# with a healthcheck probing every second (`--health-cmd true --health-interval 1s`), and the
# daemon's CPU over SECONDS (default 30) from the utime+stime of /proc/<pid>/stat. With
# `--dockerd`, the same for a private dockerd (its own pid plus its containerd's; the shims that
# run dockerd's probes are not counted, as berthd's monitors are not).
#   sudo bench/healthcheck_cost.sh [N] [SECONDS] [--dockerd]
source "$(dirname "$0")/lib.sh"
N=${1:-50}
SECONDS_EACH=${2:-30}
WITH_DOCKERD=${3:-}
trap cleanup EXIT
TAR=$(busybox_tar)
HZ=$(getconf CLK_TCK)

# utime+stime of the given pids, in clock ticks
ticks() {
  local sum=0 pid
  for pid in "$@"; do
    # Fields after the ")" of the command: utime and stime are the 12th and 13th.
    read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat")
    sum=$((sum + f[11] + f[12]))
  done
  echo "$sum"
}

# CPU% of the given pids over SECONDS_EACH
cpu_percent() {
  local t0 t1 w0 w1
  t0=$(ticks "$@"); w0=$(date +%s.%N)
  sleep "$SECONDS_EACH"
  t1=$(ticks "$@"); w1=$(date +%s.%N)
  awk -v t="$((t1 - t0))" -v hz="$HZ" -v w0="$w0" -v w1="$w1" 'BEGIN {printf "%.2f\n", 100 * t / hz / (w1 - w0)}'
}

declare -A R
run_side() {
  local side=$1 cli=$2; shift 2
  local pids=("$@")
  for i in $(seq 1 "$N"); do $cli run -d --name "plain$i" busybox:local sleep 100000 >/dev/null 2>&1; done
  sleep 2
  R[$side,idle]=$(cpu_percent "${pids[@]}")
  $cli rm -f $($cli ps -aq) >/dev/null
  for i in $(seq 1 "$N"); do
    $cli run -d --name "probed$i" --health-cmd true --health-interval 1s busybox:local sleep 100000 >/dev/null 2>&1
  done
  sleep 3  # every container past its first probe
  R[$side,probing]=$(cpu_percent "${pids[@]}")
  R[$side,healthy]=$($cli ps --filter health=healthy -q | wc -l)
  R[$side,probes]=$($cli inspect -f '{{len .State.Health.Log}}' probed1)
  $cli rm -f $($cli ps -aq) >/dev/null
}

start_berthd
$BERTH import -c 'CMD ["sh"]' "$TAR" busybox:local >/dev/null
run_side berthd "$BERTH" "$BERTHD_PID"
stop_berthd

if [ "$WITH_DOCKERD" = "--dockerd" ]; then
  need dockerd docker
  start_dockerd
  docker import -c 'CMD ["sh"]' "$TAR" busybox:local >/dev/null
  CONTAINERD_PID=$(pgrep -P "$DOCKERD_PID" containerd | head -1)
  run_side dockerd docker "$DOCKERD_PID" ${CONTAINERD_PID:+"$CONTAINERD_PID"}
  stop_dockerd
fi

printf '\n%s containers, CPU over %s s (100%% = one core)\n\n' "$N" "$SECONDS_EACH"
printf '| daemon | no healthcheck | probing every 1 s | healthy after | \n|---|---|---|---|\n'
for side in berthd dockerd; do
  [ -n "${R[$side,idle]:-}" ] || continue
  printf '| %s | %s%% | %s%% | %s/%s |\n' "$side" "${R[$side,idle]}" "${R[$side,probing]}" "${R[$side,healthy]}" "$N"
done
