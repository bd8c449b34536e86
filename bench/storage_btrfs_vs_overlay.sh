#!/bin/bash
# Issue 4's benchmark: the btrfs storage driver against overlay, each in a berthd of its own, on
# filesystems of the same size made for the run on loop devices (sparse image files in $WORK, so
# all of them sit on the same disk underneath and none shares a filesystem with the host):
#   btrfs     "storage-driver": "btrfs"    data-root on a btrfs loop filesystem
#   overlay   "storage-driver": "overlay"  data-root on an ext4 loop filesystem (the comparison)
#   ovlbtrfs  "storage-driver": "overlay"  data-root on a btrfs loop filesystem: separates what
#             btrfs costs as the filesystem under berthd's own files from what its snapshots
#             cost (BENCH_OVERLAY_ON_BTRFS=0 leaves it out)
#
# Measured in every repetition, the daemons one after the other (so background load on a shared
# machine hits all of them alike); medians over REPS repetitions:
#   - layer apply: `berth import` of a 100 MiB layer (800 files of 128 KiB of random data in 20
#     directories), end to end: content store, applying into a prepared snapshot, commit;
#   - rootfs preparation: `berth create` of 20 containers from one image (each prepares one
#     writable snapshot of the image's top layer);
#   - disk usage (df "used" before/after, after a filesystem sync and, on btrfs, once deleted
#     subvolumes are cleaned) of those 20 containers: as created, then after each container
#     appended one line to a 16 MiB file of the image (overlay copies the whole file up into the
#     container unless the filesystem can reflink it, btrfs copies only the changed blocks).
# Prints a table with the ratios btrfs/overlay (the ratio column is the median of the per-round
# ratios). Not part of CI.
#
# Usage: sudo bench/storage_btrfs_vs_overlay.sh [REPS=7] [FS_SIZE_GIB=4]
#   BERTH_BUILD_DIR  build tree with bin/berthd, bin/berth and lib/berth/plugins (default build/)
#   BENCH_WORK       work directory (default: a new /tmp/berth-bench-storage-XXXXXX, removed)
#   BENCH_IMAGE_DIR  where the loop devices' image files go (default: BENCH_WORK, i.e. the host's
#                    disk); /dev/shm takes the host disk's flush latency out of the comparison
set -euo pipefail

REPS=${1:-7}
FS_GIB=${2:-4}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${BERTH_BUILD_DIR:-$REPO/build}
BERTH="$BUILD/bin/berth"
N=20
RUNS=(btrfs overlay)
[ "${BENCH_OVERLAY_ON_BTRFS:-1}" = 1 ] && RUNS+=(ovlbtrfs)
declare -A DRIVER=([btrfs]=btrfs [overlay]=overlay [ovlbtrfs]=overlay)
declare -A FSTYPE=([btrfs]=btrfs [overlay]=ext4 [ovlbtrfs]=btrfs)

[ "$(id -u)" = 0 ] || { echo "bench: run as root (loop devices, mounts, containers)" >&2; exit 1; }
for cmd in mkfs.btrfs mkfs.ext4 btrfs losetup python3 df; do
  command -v "$cmd" >/dev/null || { echo "bench: $cmd is missing" >&2; exit 1; }
done
for f in "$BUILD/bin/berthd" "$BERTH" "$BUILD/lib/berth/plugins/berth-storage-btrfs.so" \
  "$BUILD/lib/berth/plugins/berth-storage-overlay.so" \
  "$BUILD/lib/berth/plugins/berth-isolation-linux.so"; do
  [ -e "$f" ] || { echo "bench: $f is missing (build it first)" >&2; exit 1; }
done

WORK=${BENCH_WORK:-$(mktemp -d /tmp/berth-bench-storage-XXXXXX)}
chmod 755 "$WORK"
IMAGES=$(mktemp -d "${BENCH_IMAGE_DIR:-$WORK}/berth-bench-images-XXXXXX")
DEVICES=()
declare -A PID

b() {  # berth against run $1's daemon
  local run=$1
  shift
  BERTH_HOST="unix://$WORK/$run/berth.sock" "$BERTH" "$@"
}

cleanup() {
  local run ids
  for run in "${!PID[@]}"; do
    if kill -0 "${PID[$run]}" 2>/dev/null; then
      ids=$(b "$run" ps -aq 2>/dev/null || true)
      [ -n "$ids" ] && b "$run" rm -f $ids >/dev/null 2>&1
      kill -TERM "${PID[$run]}" 2>/dev/null || true
      wait "${PID[$run]}" 2>/dev/null || true
    fi
  done
  grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  for d in "${DEVICES[@]}"; do losetup -d "$d" 2>/dev/null || true; done
  rm -rf "$IMAGES" "$WORK"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.2f\n", a / b}'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f\n", b - a}'; }

# A filesystem of FS_GIB on a loop device, mounted on $WORK/<run>/mnt.
make_fs() {  # $1 = run
  local dir="$WORK/$1" img="$IMAGES/$1.img" dev
  mkdir -p "$dir/mnt"
  truncate -s "${FS_GIB}G" "$img"
  if [ "${FSTYPE[$1]}" = btrfs ]; then mkfs.btrfs -q -f "$img" >/dev/null 2>&1
  else mkfs.ext4 -q -F "$img"; fi
  dev=$(losetup --find --show "$img")
  DEVICES+=("$dev")
  mount "$dev" "$dir/mnt"
}

# df's used KiB of a run's filesystem once everything is on disk (and, on btrfs, deleted
# subvolumes are gone).
used_kib() {  # $1 = run
  local mnt="$WORK/$1/mnt"
  if [ "${FSTYPE[$1]}" = btrfs ]; then btrfs subvolume sync "$mnt" >/dev/null 2>&1 || true; fi
  sync -f "$mnt"
  df -k --output=used "$mnt" | tail -1 | tr -d ' '
}

start_berthd() {  # $1 = run
  local dir="$WORK/$1"
  mkdir -p "$dir/exec"
  printf '{"storage-driver": "%s", "plugins": {"isolation.linux": {"cgroup-parent": "berth-bench-storage-%s"}}}\n' \
    "${DRIVER[$1]}" "$1" >"$dir/daemon.json"
  # Only the data-root is on the measured filesystem; exec-root (state, sockets) is not.
  "$BUILD/bin/berthd" --config "$dir/daemon.json" --data-root "$dir/mnt/data" \
    --exec-root "$dir/exec" --host "unix://$dir/berth.sock" --isolation-backend linux \
    --log-level warn >"$dir/berthd.log" 2>&1 &
  PID[$1]=$!
  for _ in $(seq 1 400); do b "$1" version >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "bench: berthd ($1) did not start:" >&2
  cat "$dir/berthd.log" >&2
  exit 1
}

echo "# inputs in $WORK/inputs"
mkdir -p "$WORK/inputs"
python3 - "$WORK/inputs/layer100" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(20):
    os.makedirs(f"{root}/dir{d:02}", exist_ok=True)
    for f in range(40):
        with open(f"{root}/dir{d:02}/file{f:03}", "wb") as out:
            out.write(os.urandom(128 << 10))
PY
tar -C "$WORK/inputs/layer100" -cf "$WORK/inputs/layer100.tar" .
rm -rf "$WORK/inputs/layer100"
"$REPO/tests/images/make-busybox-rootfs.sh" --dir "$WORK/inputs/base"
mkdir -p "$WORK/inputs/base/data"
head -c $((16 << 20)) /dev/urandom >"$WORK/inputs/base/data/blob"
tar --numeric-owner -C "$WORK/inputs/base" -cf "$WORK/inputs/base.tar" .
rm -rf "$WORK/inputs/base"

for run in "${RUNS[@]}"; do
  echo "# $run: storage-driver ${DRIVER[$run]}, data-root on a ${FS_GIB} GiB ${FSTYPE[$run]} loop filesystem ($IMAGES)"
  make_fs "$run"
  start_berthd "$run"
  b "$run" import --change 'CMD ["sh"]' "$WORK/inputs/base.tar" bench/base:1 >/dev/null
done

declare -A SAMPLES  # "<run>.<metric>" -> space-separated values, one per round
add() { SAMPLES[$1]="${SAMPLES[$1]:-} $2"; }
for r in $(seq 1 "$REPS"); do
  for run in "${RUNS[@]}"; do
    sync -f "$WORK/$run/mnt"
    t0=$(now)
    b "$run" import "$WORK/inputs/layer100.tar" "bench/layer:$r" >/dev/null
    add "$run.apply" "$(elapsed "$t0")"
    b "$run" rmi "bench/layer:$r" >/dev/null
  done
  for run in "${RUNS[@]}"; do
    before=$(used_kib "$run")
    t0=$(now)
    for i in $(seq 1 "$N"); do
      b "$run" create --name "c$i" bench/base:1 sh -c 'echo x >> /data/blob' >/dev/null
    done
    add "$run.create" "$(elapsed "$t0")"
    add "$run.du_created" "$(($(used_kib "$run") - before))"
    for i in $(seq 1 "$N"); do b "$run" start -a "c$i" >/dev/null; done
    add "$run.du_written" "$(($(used_kib "$run") - before))"
    b "$run" rm -f $(b "$run" ps -aq) >/dev/null
  done
  echo "# round $r done"
done

for run in "${RUNS[@]}"; do
  for m in apply create du_created du_written; do
    echo "# $run $m:${SAMPLES[$run.$m]}"
  done
done

med() { tr ' ' '\n' <<<"${SAMPLES[$1]}" | grep -v '^$' | median; }
# Median over the rounds of btrfs/overlay for one metric (pairs taken in the same round).
med_ratio() {
  paste <(tr ' ' '\n' <<<"${SAMPLES[btrfs.$1]}" | grep -v '^$') \
    <(tr ' ' '\n' <<<"${SAMPLES[overlay.$1]}" | grep -v '^$') |
    awk '$2 != 0 {printf "%.4f\n", $1 / $2}' | median | awk '{printf "%.2f\n", $1}'
}
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
mbps() { awk -v t="$1" 'BEGIN {printf "%.0f", 104.858 / t}'; }
per() { awk -v t="$1" -v n="$N" 'BEGIN {printf "%.1f", 1000 * t / n}'; }
ident() { echo "$1"; }
row() {  # $1 = label, $2 = metric, $3 = formatter, $4 = "inverse" for a rate
  local line r
  line="| $1 | $($3 "$(med "btrfs.$2")") | $($3 "$(med "overlay.$2")") |"
  r=$(med_ratio "$2")
  [ "${4:-}" = inverse ] && r=$(awk -v x="$r" 'BEGIN {printf "%.2f", 1 / x}')
  line="$line $r |"
  if [[ " ${RUNS[*]} " == *" ovlbtrfs "* ]]; then line="$line $($3 "$(med "ovlbtrfs.$2")") |"; fi
  echo "$line"
}
echo
header="| metric (median of $REPS rounds) | btrfs | overlay (ext4) | btrfs/overlay |"
rule="|---|---|---|---|"
if [[ " ${RUNS[*]} " == *" ovlbtrfs "* ]]; then
  header="$header overlay on btrfs |"
  rule="$rule---|"
fi
echo "$header"
echo "$rule"
row "import 100 MiB layer (s)" apply ident
row "import throughput (MB/s)" apply mbps inverse
row "create $N containers (s)" create ident
row "per container create (ms)" create per
row "df used by $N created containers (MiB)" du_created mib
row "... after each appended to a 16 MiB image file (MiB)" du_written mib
