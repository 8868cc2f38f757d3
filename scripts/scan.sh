#!/usr/bin/env bash
# Quick start, part 1: install what is missing, build, and scan this host with the shipped
# defaults. Extra arguments go to shadowai-scan (e.g. --duration 10s --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec "${BUILD_DIR:-build}/userspace/shadowai-scan" "$@"
