#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: install dependencies, build, start berthd
# with its default configuration (socket /run/berth.sock, data-root /var/lib/berth), import the
# busybox test image, list it, and run a container from it. berthd is stopped at the end unless
# --keep-running is given.
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = "--keep-running" ] && keep=1

./scripts/install-deps.sh
./scripts/build.sh

berth=build/bin/berth
if $berth version >/dev/null 2>&1; then
  echo "demo: a berthd is already answering on /run/berth.sock; using it"
  started=0
else
  mkdir -p /var/log
  build/bin/berthd >/var/log/berthd-demo.log 2>&1 &
  pid=$!
  started=1
  for _ in $(seq 1 100); do
    $berth version >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat /var/log/berthd-demo.log; exit 1; }
    sleep 0.1
  done
  echo "demo: berthd started (pid $pid, log /var/log/berthd-demo.log)"
fi

tar=$(mktemp --suffix=.tar)
trap 'rm -f "$tar"' EXIT
tests/images/make-busybox-rootfs.sh "$tar"
set -x
$berth import --change 'CMD ["sh"]' "$tar" busybox:local
$berth images
$berth plugin ls
$berth run --rm busybox:local sh -c 'echo hello from a berth container; uname -n; id'
$berth ps -a
set +x

if [ "$started" = 1 ] && [ "$keep" = 0 ]; then
  kill -TERM "$pid"
  wait "$pid" || true
  echo "demo: berthd stopped (run scripts/demo.sh --keep-running to keep it)"
fi
