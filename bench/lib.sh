#!/bin/bash
# Shared pieces of the side-by-side benchmarks: start and stop a private berthd and a private
# dockerd (its own data-root, exec-root and socket; --iptables=false --bridge=none
# --ip-forward=false so the host's network is untouched), the busybox test image, medians.
# Run as root. Nothing is pulled from a registry.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${BERTH_BUILD_DIR:-$REPO/build}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/berth-bench-XXXXXX)}
chmod 755 "$WORK"
BERTH="$BUILD/bin/berth"
PIDS=()

need() {
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null || { echo "bench: $cmd is missing (apt-get install it)" >&2; exit 1; }
  done
}

# berthd on unix:///$WORK/berth.sock (+ a loopback TCP port for wrk).
start_berthd() {
  local tcp=${1:-}
  mkdir -p "$WORK/berth"
  echo '{"plugins": {"isolation.linux": {"cgroup-parent": "berth-bench"}}}' >"$WORK/berth/daemon.json"
  local hosts=(--host "unix://$WORK/berth.sock")
  # An unauthenticated loopback port for wrk only (berthd refuses one without this opt-in).
  [ -n "$tcp" ] && hosts+=(--host "tcp://127.0.0.1:$tcp" --tlsverify=false)
  "$BUILD/bin/berthd" --config "$WORK/berth/daemon.json" --data-root "$WORK/berth/data" \
    --exec-root "$WORK/berth/exec" "${hosts[@]}" --log-level warn >"$WORK/berthd.log" 2>&1 &
  BERTHD_PID=$!
  PIDS+=("$BERTHD_PID")
  for _ in $(seq 1 200); do [ -S "$WORK/berth.sock" ] && break; sleep 0.05; done
  export BERTH_HOST="unix://$WORK/berth.sock"
}

stop_berthd() {
  if [ -n "${BERTHD_PID:-}" ] && kill -0 "$BERTHD_PID" 2>/dev/null; then
    "$BERTH" rm -f $("$BERTH" ps -aq) >/dev/null 2>&1 || true
    kill -TERM "$BERTHD_PID"; wait "$BERTHD_PID" 2>/dev/null || true
  fi
  BERTHD_PID=""
}

# dockerd (Debian's docker.io) with its own roots and socket; a TCP port for wrk when asked.
start_dockerd() {
  local tcp=${1:-}
  need dockerd
  mkdir -p "$WORK/docker"
  local hosts=(-H "unix://$WORK/docker.sock")
  [ -n "$tcp" ] && hosts+=(-H "tcp://127.0.0.1:$tcp")
  # Its containers' cgroups go under a parent of the benchmark's own, removed by stop_dockerd,
  # rather than the host's shared /docker.
  DOCKERD_CGROUP="berth-bench-dockerd-$$"
  dockerd --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    --cgroup-parent "/$DOCKERD_CGROUP" --data-root "$WORK/docker/data" --exec-root "$WORK/docker/exec" \
    --pidfile "$WORK/docker/docker.pid" "${hosts[@]}" --log-level error \
    >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  PIDS+=("$DOCKERD_PID")
  for _ in $(seq 1 400); do
    docker -H "unix://$WORK/docker.sock" version >/dev/null 2>&1 && break
    sleep 0.05
  done
  export DOCKER_HOST="unix://$WORK/docker.sock"
}

stop_dockerd() {
  if [ -n "${DOCKERD_PID:-}" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true
    kill -TERM "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null || true
  fi
  DOCKERD_PID=""
  # Unmount what dockerd's containerd left under its roots.
  grep " $WORK/docker" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  if [ -n "${DOCKERD_CGROUP:-}" ]; then
    for d in /sys/fs/cgroup/"$DOCKERD_CGROUP" /sys/fs/cgroup/*/"$DOCKERD_CGROUP"; do
      [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
    done
  fi
}

cleanup() {
  stop_berthd || true
  stop_dockerd || true
  grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$WORK"
}

busybox_tar() {
  [ -f "$WORK/busybox.tar" ] || "$REPO/tests/images/make-busybox-rootfs.sh" "$WORK/busybox.tar"
  echo "$WORK/busybox.tar"
}

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# seconds (float) that "$@" takes
time_of() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", b - a}'
}

# RSS in KiB of the given pids, summed
rss_kib() { [ $# -eq 0 ] && { echo 0; return; }; ps -o rss= -p "$(IFS=,; echo "$*")" | awk '{s+=$1} END {print s+0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.3f\n", a / b}'; }
