#!/bin/bash
# Issue 2's benchmark, berthd and dockerd side by side in one run:
#   - import of a 100 MB layer (MB/s)
#   - save and load of a 200 MB image of 5 layers (s)
#   - requests per second on GET /_ping and GET /v1.41/images/json (wrk over loopback TCP)
# Usage: sudo bench/images.sh [repetitions=5]     (needs docker.io, wrk; builds nothing)
source "$(dirname "$0")/lib.sh"
need wrk docker dockerd python3
REPS=${1:-5}
trap cleanup EXIT

echo "# preparing inputs in $WORK"
# The import input: a plain 100 MiB single-layer tar (one random file).
dd if=/dev/urandom of="$WORK/blob.bin" bs=1M count=100 status=none
tar -C "$WORK" -cf "$WORK/layer100.tar" blob.bin
python3 "$BENCH_DIR/make_image.py" "$WORK/image200.tar" 5 40 bench/five:layers

declare -A RESULT
run_suite() {  # $1 = name, $2 = CLI (berth or docker), $3 = TCP port
  local who=$1 cli=$2 port=$3 t
  local imports=() saves=() loads=()
  for _ in $(seq 1 "$REPS"); do
    t=$(time_of $cli import "$WORK/layer100.tar" bench/import:1)
    imports+=("$t")
    $cli rmi bench/import:1 >/dev/null
  done
  $cli load -i "$WORK/image200.tar" >/dev/null
  for _ in $(seq 1 "$REPS"); do
    t=$(time_of $cli save -o "$WORK/$who-save.tar" bench/five:layers)
    saves+=("$t")
    $cli rmi bench/five:layers >/dev/null
    t=$(time_of $cli load -i "$WORK/$who-save.tar")
    loads+=("$t")
  done
  RESULT[$who.import]=$(printf '%s\n' "${imports[@]}" | median)
  RESULT[$who.save]=$(printf '%s\n' "${saves[@]}" | median)
  RESULT[$who.load]=$(printf '%s\n' "${loads[@]}" | median)
  RESULT[$who.ping]=$(wrk -t2 -c32 -d10s "http://127.0.0.1:$port/_ping" | awk '/Requests\/sec/ {print $2}')
  RESULT[$who.images]=$(wrk -t2 -c32 -d10s "http://127.0.0.1:$port/v1.41/images/json" | awk '/Requests\/sec/ {print $2}')
}

echo "# berthd"
start_berthd 23751
run_suite berth "$BERTH" 23751
stop_berthd
echo "# dockerd"
start_dockerd 23752
run_suite docker "docker" 23752
stop_dockerd

mbps() { awk -v t="$1" 'BEGIN {printf "%.0f", 100 / t}'; }
echo
echo "| metric (median of $REPS) | berthd | dockerd | berthd/dockerd |"
echo "|---|---|---|---|"
echo "| import 100 MB layer (MB/s) | $(mbps ${RESULT[berth.import]}) | $(mbps ${RESULT[docker.import]}) | $(ratio $(mbps ${RESULT[berth.import]}) $(mbps ${RESULT[docker.import]})) x |"
echo "| save 200 MB, 5 layers (s) | ${RESULT[berth.save]} | ${RESULT[docker.save]} | $(ratio ${RESULT[berth.save]} ${RESULT[docker.save]}) |"
echo "| load 200 MB, 5 layers (s) | ${RESULT[berth.load]} | ${RESULT[docker.load]} | $(ratio ${RESULT[berth.load]} ${RESULT[docker.load]}) |"
echo "| GET /_ping (req/s) | ${RESULT[berth.ping]} | ${RESULT[docker.ping]} | $(ratio ${RESULT[berth.ping]} ${RESULT[docker.ping]}) x |"
echo "| GET /images/json (req/s) | ${RESULT[berth.images]} | ${RESULT[docker.images]} | $(ratio ${RESULT[berth.images]} ${RESULT[docker.images]}) x |"
