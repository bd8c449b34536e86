#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: install dependencies, build, start berthd
# with its default configuration (socket /run/berth.sock, data-root /var/lib/berth), import the
# busybox test image, list it, run a container from it, then start berth-registry on loopback and
# push the image berth saved into it (skopeo; berthd's own push and pull are not written yet).
# berthd is stopped at the end unless --keep-running is given; the registry always is.
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
saved=$(mktemp --suffix=.tar)
reg_root=$(mktemp -d /tmp/berth-registry-demo.XXXXXX)
regpid=
cleanup() {
  [ -n "$regpid" ] && kill -TERM "$regpid" 2>/dev/null && wait "$regpid" 2>/dev/null
  rm -rf "$tar" "$saved" "$reg_root"
}
trap cleanup EXIT
tests/images/make-busybox-rootfs.sh "$tar"
set -x
$berth import --change 'CMD ["sh"]' "$tar" busybox:local
$berth images
$berth plugin ls
$berth run --rm busybox:local sh -c 'echo hello from a berth container; uname -n; id'
$berth ps -a
set +x

# The third program: berth-registry on a free loopback port, fed with the image berth saved.
build/bin/berth-registry --listen 127.0.0.1:0 --root "$reg_root" >"$reg_root.log" 2>&1 &
regpid=$!
addr=
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^berth-registry listening on //p' "$reg_root.log" | head -1)
  [ -n "$addr" ] && break
  kill -0 "$regpid" 2>/dev/null || { cat "$reg_root.log"; exit 1; }
  sleep 0.1
done
echo "demo: berth-registry serving on $addr (root $reg_root)"
set -x
$berth save -o "$saved" busybox:local
skopeo copy --quiet --dest-tls-verify=false "docker-archive:$saved" "docker://$addr/demo/busybox:local"
curl -s "http://$addr/v2/demo/busybox/tags/list"
echo
skopeo inspect --tls-verify=false --format '{{.Digest}} {{.Layers}}' "docker://$addr/demo/busybox:local"
set +x
rm -f "$reg_root.log"

if [ "$started" = 1 ] && [ "$keep" = 0 ]; then
  kill -TERM "$pid"
  wait "$pid" || true
  echo "demo: berthd stopped (run scripts/demo.sh --keep-running to keep it)"
fi
