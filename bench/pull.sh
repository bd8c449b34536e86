#!/bin/bash
# Issue 13's benchmark, berthd and dockerd side by side in one run, each against its own empty
# berth-registry on loopback: push of a 200 MB image of 5 layers (random, incompressible), a
# second push (nothing to upload), and a pull after the image was removed; skopeo copy of the
# same image from the registry into a local directory for reference. Page caches are not
# dropped (that is a host-wide setting this script does not touch); every run reads the same
# warm files, for both engines. Prints a Markdown table.
# Usage: sudo bench/pull.sh [repetitions=3]     (needs docker.io, skopeo; builds nothing)
source "$(dirname "$0")/lib.sh"
need docker dockerd skopeo python3
REPS=${1:-3}
# The registries start in command substitutions (subshells): their pids go to files.
stop_registries() { cat "$WORK"/reg-*.pid 2>/dev/null | xargs -r kill 2>/dev/null || true; sleep 0.2; }
trap 'stop_registries; cleanup' EXIT

echo "# preparing a 5 x 40 MiB image in $WORK" >&2
python3 "$BENCH_DIR/make_image.py" "$WORK/image200.tar" 5 40 bench/five:layers

start_registry() {  # $1 = name; prints the address
  "$BUILD/bin/berth-registry" --listen 127.0.0.1:0 --root "$WORK/reg-$1" --log-level warn \
    >"$WORK/reg-$1.addr" 2>"$WORK/reg-$1.log" &
  echo $! >"$WORK/reg-$1.pid"
  for _ in $(seq 1 100); do grep -q "listening on" "$WORK/reg-$1.addr" && break; sleep 0.05; done
  awk '/listening on/ {print $NF}' "$WORK/reg-$1.addr"
}

declare -A RESULT
run_suite() {  # $1 = name, $2 = CLI (berth or docker)
  local who=$1 cli=$2 pushes=() again=() pulls=() addr ref
  $cli load -i "$WORK/image200.tar" >/dev/null
  for i in $(seq 1 "$REPS"); do
    addr=$(start_registry "$who-$i")
    ref="$addr/bench/five:layers"
    $cli tag bench/five:layers "$ref"
    pushes+=("$(time_of $cli push "$ref")")
    again+=("$(time_of $cli push "$ref")")
    $cli rmi "$ref" bench/five:layers >/dev/null
    pulls+=("$(time_of $cli pull "$ref")")
    $cli tag "$ref" bench/five:layers
    $cli rmi "$ref" >/dev/null
    LAST_REF=$ref
  done
  RESULT[$who.push]=$(printf '%s\n' "${pushes[@]}" | median)
  RESULT[$who.again]=$(printf '%s\n' "${again[@]}" | median)
  RESULT[$who.pull]=$(printf '%s\n' "${pulls[@]}" | median)
}

start_berthd
run_suite berthd "$BERTH"  # BERTH_HOST (exported by start_berthd) picks the daemon
copies=()
for _ in $(seq 1 "$REPS"); do
  rm -rf "$WORK/skopeo-dir"
  copies+=("$(time_of skopeo copy --quiet --src-tls-verify=false "docker://$LAST_REF" "dir:$WORK/skopeo-dir")")
done
RESULT[skopeo.pull]=$(printf '%s\n' "${copies[@]}" | median)
stop_berthd

start_dockerd
run_suite dockerd "docker"
stop_dockerd

echo "| 200 MB, 5 layers (median of $REPS, s) | berthd | dockerd | berthd/dockerd |"
echo "|---|---|---|---|"
for m in push again pull; do
  label=$m; [ $m = again ] && label="second push"
  echo "| $label | ${RESULT[berthd.$m]} | ${RESULT[dockerd.$m]} | $(ratio "${RESULT[berthd.$m]}" "${RESULT[dockerd.$m]}") |"
done
echo "| skopeo copy to dir | ${RESULT[skopeo.pull]} | | pull/skopeo: $(ratio "${RESULT[berthd.pull]}" "${RESULT[skopeo.pull]}") |"
