#!/usr/bin/env bash
# Quick start, part 2: install what is missing, build, and run the whole test suite: unit tests,
# fuzz-seed replays, and (as root) the integration tests against the real kernel.
# Extra arguments go to ctest (e.g. -L unit, -R Scan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
exec ctest --output-on-failure --timeout 300 -j"$(nproc)" "$@"
