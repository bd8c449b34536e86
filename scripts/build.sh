#!/usr/bin/env bash
# Configures and builds Berth into ./build (programs in build/bin, plugins in
# build/lib/berth/plugins). Two parallel jobs: the machines have two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${BERTH_JOBS:-2}
cmake -S . -B build -DCMAKE_BUILD_TYPE=${BERTH_BUILD_TYPE:-RelWithDebInfo} "$@"
cmake --build build -j "$jobs"
