#!/bin/bash
# Issue 3's benchmark, side by side in one run (berthd, dockerd, podman where installed, and a
# bare `runc run` of the same rootfs):
#   - one-shot `run --rm IMG true` (hyperfine, median of >= 20 runs)
#   - 50 detached containers started one after another, and 50 concurrently (s)
#   - `ps` with 50 running (hyperfine median), removing 50 (s)
#   - daemon RSS idle and with 50 running; per-container monitor / shim RSS
# Usage: sudo bench/containers.sh [runs=20]   (needs docker.io, hyperfine; podman and runc optional)
source "$(dirname "$0")/lib.sh"
need hyperfine docker dockerd
RUNS=${1:-20}
N=50
trap cleanup EXIT
TAR=$(busybox_tar)
declare -A R

hf_median() {  # hyperfine --export-json file → median seconds
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$1"
}

fifty() {  # $1 = CLI command prefix (array name), $2 = who
  local -n cli=$1
  local who=$2 t0 t1
  t0=$(date +%s.%N)
  for i in $(seq 1 $N); do "${cli[@]}" run -d --network none --name "b$i" busybox:local sleep 1000 >/dev/null; done
  t1=$(date +%s.%N)
  R[$who.seq]=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
  hyperfine -N --runs "$RUNS" --warmup 2 --export-json "$WORK/$who-ps.json" "${cli[*]} ps" >/dev/null 2>&1
  R[$who.ps]=$(hf_median "$WORK/$who-ps.json")
}

remove_all() {
  local -n cli=$1
  local who=$2
  R[$who.rm]=$(time_of "${cli[@]}" rm -f $("${cli[@]}" ps -aq))
}

concurrent() {
  local -n cli=$1
  local who=$2 t0 t1
  t0=$(date +%s.%N)
  seq 1 $N | xargs -P $N -I{} "${cli[@]}" run -d --network none --name "c{}" busybox:local sleep 1000 >/dev/null
  t1=$(date +%s.%N)
  R[$who.conc]=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
  "${cli[@]}" rm -f $("${cli[@]}" ps -aq) >/dev/null
}

# ---- berthd -----------------------------------------------------------------------------------
echo "# berthd"
start_berthd
B=("$BERTH")
$BERTH import -c 'CMD ["sh"]' "$TAR" busybox:local >/dev/null
sleep 1
R[berth.idle]=$(rss_kib "$BERTHD_PID")
hyperfine -N --runs "$RUNS" --warmup 3 --export-json "$WORK/berth-oneshot.json" \
  "$BERTH run --rm --network none busybox:local true" >/dev/null 2>&1
R[berth.oneshot]=$(hf_median "$WORK/berth-oneshot.json")
fifty B berth
sleep 1
# berthd and the isolation plugin's monitor launcher (started with the first container).
R[berth.busy]=$(rss_kib "$BERTHD_PID" $(pgrep -P "$BERTHD_PID" -x berth-launcher || true))
monitors=($(pgrep -x berth-monitor || true))
R[berth.monitors]=$(rss_kib "${monitors[@]}")
R[berth.per]=$(ps -o rss= -p "$(IFS=,; echo "${monitors[*]}")" | median)
remove_all B berth
concurrent B berth
stop_berthd

# ---- dockerd ----------------------------------------------------------------------------------
echo "# dockerd"
start_dockerd
D=(docker)
docker import -c 'CMD ["sh"]' "$TAR" busybox:local >/dev/null
sleep 2
containerd_pids() { pgrep -f "containerd --config $WORK/docker/exec" || pgrep -f "$WORK/docker/exec/containerd" || true; }
R[docker.idle]=$(rss_kib "$DOCKERD_PID" $(containerd_pids))
hyperfine -N --runs "$RUNS" --warmup 3 --export-json "$WORK/docker-oneshot.json" \
  "docker run --rm --network none busybox:local true" >/dev/null 2>&1
R[docker.oneshot]=$(hf_median "$WORK/docker-oneshot.json")
fifty D docker
sleep 1
shims=($(pgrep -f "containerd-shim-runc-v2 -namespace moby" || true))
R[docker.busy]=$(rss_kib "$DOCKERD_PID" $(containerd_pids))
R[docker.shims]=$(rss_kib "${shims[@]}")
R[docker.per]=$( [ ${#shims[@]} -gt 0 ] && ps -o rss= -p "$(IFS=,; echo "${shims[*]}")" | median || echo 0)
remove_all D docker
concurrent D docker
stop_dockerd

# ---- podman -----------------------------------------------------------------------------------
if command -v podman >/dev/null && command -v runc >/dev/null; then
  echo "# podman (runc)"
  # Podman's default nofile/nproc limits exceed this host's hard limits (root lacks
  # CAP_SYS_RESOURCE): keep the host's, as berthd and dockerd do.
  mkdir -p "$WORK/podman"
  printf '[containers]\ndefault_ulimits = []\n' >"$WORK/podman/containers.conf"
  export CONTAINERS_CONF="$WORK/podman/containers.conf"
  # Podman (cgroupfs) puts conmon and its containers under libpod_parent; remove it afterwards
  # when this run made it.
  # (ls fails when there is none: with pipefail, that must not end the script)
  podman_cgroup_preexisting=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null | head -1 || true)
  P=(podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --cgroup-manager cgroupfs
     --runtime runc --events-backend file)
  "${P[@]}" import -c 'CMD ["sh"]' "$TAR" busybox:local >/dev/null
  hyperfine -N --runs "$RUNS" --warmup 3 --export-json "$WORK/podman-oneshot.json" \
    "${P[*]} run --rm --network none busybox:local true" >/dev/null 2>&1
  R[podman.oneshot]=$(hf_median "$WORK/podman-oneshot.json")
  fifty P podman
  remove_all P podman
  concurrent P podman
  "${P[@]}" rmi -af >/dev/null 2>&1 || true
  grep " $WORK/podman" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  if [ -z "$podman_cgroup_preexisting" ]; then
    find /sys/fs/cgroup/*/libpod_parent -depth -type d -exec rmdir {} \; 2>/dev/null || true
  fi
fi

# ---- bare runc ----------------------------------------------------------------------------------
if command -v runc >/dev/null; then
  echo "# bare runc run"
  mkdir -p "$WORK/bundle/rootfs"
  tar -C "$WORK/bundle/rootfs" -xf "$TAR"
  (cd "$WORK/bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
  hyperfine -N --runs "$RUNS" --warmup 3 --export-json "$WORK/runc-oneshot.json" \
    "runc --root $WORK/runc run -b $WORK/bundle bench" >/dev/null 2>&1
  R[runc.oneshot]=$(hf_median "$WORK/runc-oneshot.json")
fi

ms() { awk -v s="$1" 'BEGIN {if (s == "") print "-"; else printf "%.1f", s * 1000}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
echo
echo "| metric | berthd | dockerd | podman | runc | berthd/dockerd |"
echo "|---|---|---|---|---|---|"
echo "| one-shot run --rm true, median of $RUNS (ms) | $(ms ${R[berth.oneshot]}) | $(ms ${R[docker.oneshot]}) | $(ms ${R[podman.oneshot]:-}) | $(ms ${R[runc.oneshot]:-}) | $(ratio ${R[berth.oneshot]} ${R[docker.oneshot]}) |"
echo "| $N detached, one after another (s) | ${R[berth.seq]} | ${R[docker.seq]} | ${R[podman.seq]:--} | - | $(ratio ${R[berth.seq]} ${R[docker.seq]}) |"
echo "| $N detached, concurrently (s) | ${R[berth.conc]} | ${R[docker.conc]} | ${R[podman.conc]:--} | - | $(ratio ${R[berth.conc]} ${R[docker.conc]}) |"
echo "| ps with $N running, median (ms) | $(ms ${R[berth.ps]}) | $(ms ${R[docker.ps]}) | $(ms ${R[podman.ps]:-}) | - | $(ratio ${R[berth.ps]} ${R[docker.ps]}) |"
echo "| rm -f of $N (s) | ${R[berth.rm]} | ${R[docker.rm]} | ${R[podman.rm]:--} | - | $(ratio ${R[berth.rm]} ${R[docker.rm]}) |"
echo "| daemon RSS idle (MiB; dockerd+containerd) | $(mib ${R[berth.idle]}) | $(mib ${R[docker.idle]}) | - | - | $(ratio ${R[berth.idle]} ${R[docker.idle]}) |"
echo "| daemon RSS, $N running (MiB; berthd+launcher) | $(mib ${R[berth.busy]}) | $(mib ${R[docker.busy]}) | - | - | $(ratio ${R[berth.busy]} ${R[docker.busy]}) |"
echo "| per-container monitor/shim RSS, median (KiB) | ${R[berth.per]} | ${R[docker.per]} | - | - | $(ratio ${R[berth.per]} ${R[docker.per]}) |"
echo "| all monitors/shims, $N running (MiB) | $(mib ${R[berth.monitors]}) | $(mib ${R[docker.shims]}) | - | - | $(ratio ${R[berth.monitors]} ${R[docker.shims]}) |"
