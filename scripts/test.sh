#!/usr/bin/env bash
# Quick start, part 2: install what is missing, build, and run the whole test suite: unit tests,
# fuzz-seed replays, and (as root) the integration tests against the real kernel, some of which run
# the official LLM SDKs (Node.js, installed here too: scripts/install-test-clients.sh).
# Extra arguments go to ctest (e.g. -L unit, -R Scan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
bash scripts/install-test-clients.sh
cd "${BUILD_DIR:-build}"
exec ctest --output-on-failure --timeout 300 -j"$(nproc)" "$@"
