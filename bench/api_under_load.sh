#!/bin/bash
# List and inspect under concurrency, berthd against dockerd in one run: 50 running containers
# each, then `hey` against GET /containers/json and GET /containers/{id}/json over a loopback TCP
# port (opened only for the run) with 8, 64 and 1000 concurrent clients, ROUNDS times each;
# medians of requests/s and of p50/p99 latency. Also /_ping's latency while 1000 clients list.
#   sudo bench/api_under_load.sh [ROUNDS] [SECONDS]        (defaults 3 and 8)
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
SECONDS_EACH=${2:-8}
need hey dockerd docker
trap cleanup EXIT
TAR=$(busybox_tar)

# "rps p50_ms p99_ms" of one hey run
hey_run() {
  hey -z "${SECONDS_EACH}s" -c "$1" "$2" 2>/dev/null | awk '
    /Requests\/sec/ {rps=$2}
    /50% in/ {p50=$3*1000}
    /99% in/ {p99=$3*1000}
    END {printf "%.0f %.2f %.2f\n", rps, p50, p99}'
}

# medians over ROUNDS of hey_run
measure() {
  local c=$1 url=$2 out=()
  for _ in $(seq 1 "$ROUNDS"); do out+=("$(hey_run "$c" "$url")"); done
  local rps p50 p99
  rps=$(printf '%s\n' "${out[@]}" | awk '{print $1}' | median)
  p50=$(printf '%s\n' "${out[@]}" | awk '{print $2}' | median)
  p99=$(printf '%s\n' "${out[@]}" | awk '{print $3}' | median)
  echo "$rps $p50 $p99"
}

# ping latency (median ms of 20 pings, 10 ms apart) while 1000 clients list
ping_under_load() {
  local base=$1
  hey -z "$((SECONDS_EACH + 2))s" -c 1000 "$base/containers/json" >/dev/null 2>&1 &
  local h=$!
  sleep 2
  local t=()
  for _ in $(seq 1 20); do
    t+=("$(curl -s -o /dev/null -w '%{time_total}' "$base/_ping" | awk '{printf "%.2f", $1*1000}')")
    sleep 0.01
  done
  wait $h || true
  printf '%s\n' "${t[@]}" | median
}

declare -A R
run_side() {
  local side=$1 base=$2 cli=$3
  for i in $(seq 1 50); do $cli run -d busybox:local sleep 100000 >/dev/null; done
  local id
  id=$($cli ps -q | head -1)
  for c in 8 64 1000; do
    R[$side,list,$c]=$(measure "$c" "$base/containers/json")
    R[$side,inspect,$c]=$(measure "$c" "$base/containers/$id/json")
  done
  R[$side,ping]=$(ping_under_load "$base")
}

start_berthd 23801
$BERTH import -c 'CMD ["sh"]' "$TAR" busybox:local >/dev/null
run_side berthd http://127.0.0.1:23801 "$BERTH"
stop_berthd

start_dockerd 23802
docker import -c 'CMD ["sh"]' "$TAR" busybox:local >/dev/null
run_side dockerd http://127.0.0.1:23802 docker
stop_dockerd

printf '\n| endpoint, clients | berthd req/s | dockerd req/s | ratio | berthd p50 / p99 (ms) | dockerd p50 / p99 (ms) |\n'
printf '|---|---|---|---|---|---|\n'
for what in list inspect; do
  for c in 8 64 1000; do
    read -r br bp50 bp99 <<<"${R[berthd,$what,$c]}"
    read -r dr dp50 dp99 <<<"${R[dockerd,$what,$c]}"
    name=$([ "$what" = list ] && echo "/containers/json" || echo "/containers/{id}/json")
    printf '| %s, %s | %s | %s | %s x | %s / %s | %s / %s |\n' "$name" "$c" "$br" "$dr" "$(ratio "$br" "$dr")" "$bp50" "$bp99" "$dp50" "$dp99"
  done
done
printf '| /_ping while 1000 clients list (median ms) | %s | %s | | | |\n' "${R[berthd,ping]}" "${R[dockerd,ping]}"
