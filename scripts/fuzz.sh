#!/usr/bin/env bash
# Builds berthd's libFuzzer harnesses (clang; ASan and UBSan on every library) and runs each for
# SECONDS (default 60), starting from its seed corpus in tests/fuzz/corpus/<harness>/. What a
# run finds new is kept in <build>/corpus/<harness>/ for the next run; a crash leaves its input
# in <build>/artifacts/ and fails the script (replay: <build>/fuzzers/<harness> <file>).
#   scripts/fuzz.sh [SECONDS] [HARNESS...]      BERTH_FUZZ_BUILD=<dir> (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
out=${BERTH_FUZZ_BUILD:-build-fuzz}
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
if [ ! -f "$out/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$out" -DBERTH_FUZZ=ON -DBERTH_BUILD_CLI=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
fi
cmake --build "$out" -j "${BERTH_JOBS:-2}" --target fuzz_all >/dev/null
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=(fuzz_http_request fuzz_reference fuzz_create_config fuzz_layer_applier fuzz_image_load
             fuzz_distribution fuzz_dockerfile)
fi
mkdir -p "$out/artifacts"
status=0
for h in "${harnesses[@]}"; do
  mkdir -p "$out/corpus/$h"
  seeds=tests/fuzz/corpus/$h
  log="$out/$h.log"
  # Leaks are checked too; a harness's statics (the server, its router) are not leaks.
  # Scratch files of the harnesses go under the fuzz build, removed after a harness that passed
  # (kept after a failure, to reproduce it), even when its own exit-time cleanup did not run.
  mkdir -p "$out/tmp"
  if TMPDIR="$out/tmp" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     "$out/fuzzers/$h" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -max_len=1048576 \
       -artifact_prefix="$out/artifacts/$h-" "$out/corpus/$h" "$seeds" >"$log" 2>&1; then
    echo "$h: $(grep -E '^#[0-9]+.*DONE' "$log" | tail -1 | sed 's/^/ /') ($seconds s, no crash)"
    rm -rf "$out/tmp"
  else
    echo "$h: FAILED, see $log"
    tail -40 "$log"
    status=1
  fi
done
exit $status
