#!/usr/bin/env bash
# Installs what is missing, then configures (first time only) and builds into build/.
# A second run with nothing changed takes a few seconds. The compiler's output goes to
# build/build.log; on failure its end is shown.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
mkdir -p "$BUILD_DIR"
log="$BUILD_DIR/build.log"
echo "shadowai: building in $BUILD_DIR (log: $log)" >&2
if ! { [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo; } >"$log" 2>&1 ||
   ! cmake --build "$BUILD_DIR" -j"$(nproc)" >>"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "shadowai: build failed (full log: $log)" >&2
  exit 1
fi
