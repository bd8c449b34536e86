#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: install dependencies, build, start berthd
# with its default configuration (socket /run/berth.sock, data-root /var/lib/berth), import the
# busybox test image, list it, run a container from it, serve a page from a container on a user
# network through a port published on 127.0.0.1 (reached from the host and, by name, from a second
# container), then start berth-registry on loopback, push the image into it, remove it, pull it
# back and run it. berthd is stopped at the end unless --keep-running is given; the registry
# always is. When the demo started berthd itself and stops it, it also takes down what berthd's
# default bridge network made on the host (bridge berth0, nftables table `ip berth`, and
# ip_forward if berthd turned it on), unless they were there before.
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
  had_bridge=0; ip link show berth0 >/dev/null 2>&1 && had_bridge=1
  had_table=0; nft list table ip berth >/dev/null 2>&1 && had_table=1
  had_exec_root=0; grep -q " /run/berth " /proc/mounts && had_exec_root=1
  forwarding=$(cat /proc/sys/net/ipv4/ip_forward)
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
reg_root=$(mktemp -d /tmp/berth-registry-demo.XXXXXX)
regpid=
cleanup() {
  $berth rm -f demo-web >/dev/null 2>&1 || true
  $berth network rm demo-net >/dev/null 2>&1 || true
  [ -n "$regpid" ] && kill -TERM "$regpid" 2>/dev/null && wait "$regpid" 2>/dev/null
  rm -rf "$tar" "$reg_root"
}
trap cleanup EXIT
tests/images/make-busybox-rootfs.sh "$tar"
set -x
$berth import --change 'CMD ["sh"]' "$tar" busybox:local
$berth images
$berth plugin ls
$berth run --rm busybox:local sh -c 'echo hello from a berth container; uname -n; id'
$berth ps -a

# Networking: a web server on a user network, its port published on loopback only.
$berth network create demo-net
$berth run -d --name demo-web --network demo-net -p 127.0.0.1::80 busybox:local \
  sh -c 'mkdir -p /www && echo "hello from a berth network" > /www/index.html && exec httpd -f -p 80 -h /www'
hostport=$($berth port demo-web 80/tcp | head -1)
set +x
for _ in $(seq 1 50); do curl -sf "http://$hostport/" >/dev/null && break; sleep 0.1; done
set -x
curl -s "http://$hostport/"
$berth run --rm --network demo-net busybox:local wget -qO- http://demo-web/
$berth rm -f demo-web
$berth network rm demo-net
set +x

# The third program: berth-registry on a free loopback port; berthd pushes to it and pulls back.
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
$berth tag busybox:local "$addr/demo/busybox:local"
$berth push "$addr/demo/busybox:local"
curl -s "http://$addr/v2/demo/busybox/tags/list"
echo
$berth rmi "$addr/demo/busybox:local"
$berth pull "$addr/demo/busybox:local"
$berth run --rm "$addr/demo/busybox:local" echo pulled back from berth-registry
$berth rmi "$addr/demo/busybox:local"
set +x
rm -f "$reg_root.log"

if [ "$started" = 1 ] && [ "$keep" = 0 ]; then
  kill -TERM "$pid"
  wait "$pid" || true
  echo "demo: berthd stopped (run scripts/demo.sh --keep-running to keep it)"
  [ "$had_bridge" = 0 ] && ip link del berth0 2>/dev/null || true
  [ "$had_table" = 0 ] && nft delete table ip berth 2>/dev/null || true
  # berthd keeps its exec-root tmpfs mounted across restarts (live restore needs it); the demo
  # made it, no container is left, so it goes too.
  [ "$had_exec_root" = 0 ] && umount /run/berth 2>/dev/null || true
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$forwarding" ] && echo "$forwarding" >/proc/sys/net/ipv4/ip_forward
  echo "demo: the default bridge's host state removed (berth0, nftables table ip berth, ip_forward=$forwarding)"
fi
