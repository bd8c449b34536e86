#!/bin/bash
# Issue 15's benchmark, berthd's builder and dockerd's legacy builder side by side in one run:
# a 5-step Dockerfile (FROM, COPY of a 50 MB tree, RUN, ENV, CMD) built
#   - cold (--no-cache),
#   - fully cached (nothing changed),
#   - after touching one copied file (COPY and what follows rebuild).
# Usage: sudo bench/build.sh [repetitions=3]   (needs docker.io; builds nothing, pulls nothing)
source "$(dirname "$0")/lib.sh"
need docker dockerd python3
REPS=${1:-3}
trap cleanup EXIT

echo "# preparing the context in $WORK/ctx"
mkdir -p "$WORK/ctx/tree"
# 50 MB in 500 files of 100 KiB across 10 directories.
python3 - "$WORK/ctx/tree" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(10):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
    for f in range(50):
        with open(f"{root}/d{d}/f{f}.bin", "wb") as out:
            out.write(os.urandom(100 * 1024))
PY
cat >"$WORK/ctx/Dockerfile" <<'DF'
FROM busybox:local
COPY tree /srv/tree
RUN du -s /srv/tree > /srv/size
ENV APP=bench
CMD ["cat", "/srv/size"]
DF

declare -A RESULT
run_suite() {  # $1 = name, $2 = CLI
  local who=$1 cli=$2 t
  local cold=() cached=() touched=()
  $cli import "$(busybox_tar)" busybox:local >/dev/null
  export DOCKER_BUILDKIT=0
  $cli build -q -t bench/app "$WORK/ctx" >/dev/null  # warm the page cache
  for i in $(seq 1 "$REPS"); do
    t=$(time_of $cli build -q --no-cache -t bench/app "$WORK/ctx"); cold+=("$t")
    t=$(time_of $cli build -q -t bench/app "$WORK/ctx"); cached+=("$t")
    echo "$who $i" >>"$WORK/ctx/tree/d0/f0.bin"
    t=$(time_of $cli build -q -t bench/app "$WORK/ctx"); touched+=("$t")
  done
  RESULT[$who.cold]=$(printf '%s\n' "${cold[@]}" | median)
  RESULT[$who.cached]=$(printf '%s\n' "${cached[@]}" | median)
  RESULT[$who.touched]=$(printf '%s\n' "${touched[@]}" | median)
}

echo "# berthd"
start_berthd
run_suite berth "$BERTH"
stop_berthd
echo "# dockerd (legacy builder)"
start_dockerd
run_suite docker docker
stop_dockerd

echo
echo "| build, 50 MB context (median of $REPS, s) | berthd | dockerd | berthd/dockerd |"
echo "|---|---|---|---|"
for m in cold cached touched; do
  echo "| $m | ${RESULT[berth.$m]} | ${RESULT[docker.$m]} | $(ratio ${RESULT[berth.$m]} ${RESULT[docker.$m]}) |"
done
