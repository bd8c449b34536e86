#!/bin/bash
# berth-registry against Debian's docker-registry (CNCF distribution) in one run, same machine,
# each with its own root on loopback, access logs off: manifest GET by tag under concurrency 16
# (hey), 50 MB blob GET under concurrency 4, 5 x 40 MB layers pushed in parallel (monolithic
# and chunked), RSS idle and peak. Prints a Markdown table. Usage: bench/registry.sh [ROUNDS]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need hey wrk docker-registry python3
ROUNDS=${1:-3}
trap cleanup EXIT
PUSH="$BENCH_DIR/registry_push.py"
BERTH_PORT=25100
DR_PORT=25101

"$BUILD/bin/berth-registry" --listen 127.0.0.1:$BERTH_PORT --root "$WORK/berth-root" \
  --log-level warn >"$WORK/berth-registry.out" 2>&1 &
BERTH_PID=$!
PIDS+=("$BERTH_PID")
cat >"$WORK/docker-registry.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/dr-root}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$DR_PORT}
YAML
docker-registry serve "$WORK/docker-registry.yml" >"$WORK/docker-registry.out" 2>&1 &
DR_PID=$!
PIDS+=("$DR_PID")
for port in $BERTH_PORT $DR_PORT; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
done
sleep 0.5
vm() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
IDLE_B=$(vm $BERTH_PID VmRSS); IDLE_D=$(vm $DR_PID VmRSS)

BIG_B=$(python3 "$PUSH" seed 127.0.0.1:$BERTH_PORT)
BIG_D=$(python3 "$PUSH" seed 127.0.0.1:$DR_PORT)
ACCEPT="Accept: application/vnd.oci.image.manifest.v1+json"

rps() { hey "$@" 2>/dev/null | awk '/Requests\/sec/ {print $2}'; }
# MB/s that wrk (C, lighter than hey's Go client on big bodies) reads from a URL.
mbps() {
  wrk -t2 -c4 -d8s "$1" 2>/dev/null | awk '/Transfer\/sec/ {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Z]+$/, "", v);
    if (u == "GB") v *= 1024; else if (u == "KB") v /= 1024; printf "%.0f\n", v}'
}
# The server's CPU seconds (user + system) per GB it sent, from /proc/PID/stat around one wrk
# run: on 2 shared cores the client (wrk reading the bodies) is the bottleneck of MB/s, so this
# says what each server spends to serve the bytes. Prints "MB/s cpu_s_per_GB".
blob_get() {
  local pid=$1 url=$2 before after rate
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rate=$(mbps "$url")
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  awk -v r="$rate" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%s %.3f\n", r, (t / hz) / (r * 8 / 1000)}'
}
declare -A R
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  R[man_b]+="$(rps -n 20000 -c 16 -H "$ACCEPT" http://127.0.0.1:$BERTH_PORT/v2/bench/app/manifests/v1)"$'\n'
  R[man_d]+="$(rps -n 20000 -c 16 -H "$ACCEPT" http://127.0.0.1:$DR_PORT/v2/bench/app/manifests/v1)"$'\n'
  read -r rate cpu < <(blob_get "$BERTH_PID" http://127.0.0.1:$BERTH_PORT/v2/bench/big/blobs/$BIG_B)
  R[blob_b]+="$rate"$'\n'; R[blobcpu_b]+="$cpu"$'\n'
  read -r rate cpu < <(blob_get "$DR_PID" http://127.0.0.1:$DR_PORT/v2/bench/big/blobs/$BIG_D)
  R[blob_d]+="$rate"$'\n'; R[blobcpu_d]+="$cpu"$'\n'
  for mode in monolithic chunked; do
    R[push_${mode}_b]+="$(python3 "$PUSH" push 127.0.0.1:$BERTH_PORT $mode 5 40)"$'\n'
    R[push_${mode}_d]+="$(python3 "$PUSH" push 127.0.0.1:$DR_PORT $mode 5 40)"$'\n'
  done
done
PEAK_B=$(vm $BERTH_PID VmHWM); PEAK_D=$(vm $DR_PID VmHWM)
med() { printf '%s' "${R[$1]}" | grep -v '^$' | median; }

printf '\nload average before / after: %s / %s\n' "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n| measure (median of %s) | berth-registry | docker-registry | ratio |\n' "$ROUNDS"
printf '|---|---|---|---|\n'
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
mb=$(med man_b); md=$(med man_d)
row "manifest GET by tag, c=16 (req/s)" "$mb" "$md" "$(ratio "$mb" "$md")x"
bb=$(med blob_b); bd=$(med blob_d)
row "50 MB blob GET, c=4 (MB/s, wrk)" "$bb" "$bd" "$(ratio "$bb" "$bd")x"
cb=$(med blobcpu_b); cd=$(med blobcpu_d)
row "50 MB blob GET: server CPU per GB sent (s, lower is better)" "$cb" "$cd" "$(ratio "$cd" "$cb")x less"
for mode in monolithic chunked; do
  pb=$(med push_${mode}_b); pd=$(med push_${mode}_d)
  row "push 5 x 40 MB, $mode (s, lower is better)" "$pb" "$pd" "$(ratio "$pd" "$pb")x faster"
done
row "RSS idle (MiB)" "$(awk -v k="$IDLE_B" 'BEGIN{printf "%.1f", k/1024}')" \
  "$(awk -v k="$IDLE_D" 'BEGIN{printf "%.1f", k/1024}')" "$(ratio "$IDLE_B" "$IDLE_D")"
row "RSS peak under this load (MiB)" "$(awk -v k="$PEAK_B" 'BEGIN{printf "%.1f", k/1024}')" \
  "$(awk -v k="$PEAK_D" 'BEGIN{printf "%.1f", k/1024}')" "$(ratio "$PEAK_B" "$PEAK_D")"
kill -TERM "$BERTH_PID" "$DR_PID" 2>/dev/null || true
wait "$BERTH_PID" "$DR_PID" 2>/dev/null || true
