#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, as root: install dependencies, build, run
# every CTest label (unit, plugin, conformance, integration, compat, sdk). Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 900 -j "${BERTH_TEST_JOBS:-2}" "$@"
