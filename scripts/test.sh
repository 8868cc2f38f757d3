#!/usr/bin/env bash
# Quick start, part 2: install what is missing, build, and run the whole test suite: unit tests,
# fuzz-seed replays, a short run of every fuzz target under ASan and UBSan (fuzz.smoke, built here
# in build-fuzz/ by scripts/fuzz-smoke.sh), and (as root) the integration tests against the real
# kernel, some of which run the official LLM SDKs (Node.js, installed here too:
# scripts/install-test-clients.sh).
# Extra arguments go to ctest (e.g. -L unit, -R Scan, -LE fuzz to leave the fuzz run out).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# Before ctest, so that fuzz.smoke only runs the targets; the first build takes about 9 minutes on
# 2 cores, later ones only rebuild what changed.
bash scripts/fuzz-smoke.sh --build-only
bash scripts/install-test-clients.sh
cd "${BUILD_DIR:-build}"
exec ctest --output-on-failure --timeout 300 -j"$(nproc)" "$@"
