#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) with clang, AddressSanitizer and UBSan in
# build-fuzz/ (only those targets: no tests, no benchmarks), then runs each one briefly: once over
# its seeds in tests/fuzz/corpus/<name>/, then FUZZ_SECONDS (10) of mutation starting from them.
# Fails, naming the target, on any crash, leak, timeout or sanitizer report; the input that did it
# is kept in build-fuzz/fuzz-artifacts/<name>/ and the report in build-fuzz/fuzz-logs/<name>.log.
# New inputs go to a temporary directory, never into the source tree.
#
# Idempotent: installs what is missing (scripts/install-deps.sh), and a second run only rebuilds
# what changed. scripts/test.sh runs it with --build-only (build without running), then ctest runs it
# as the test fuzz.smoke (label fuzz).
# Usage: scripts/fuzz-smoke.sh [--build-only] [TARGET...]   (FUZZ_SECONDS=N, FUZZ_BUILD_DIR=DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

build_only=false
if [ "${1:-}" = --build-only ]; then
  build_only=true
  shift
fi
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-10}
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for source in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

started=$SECONDS
mkdir -p "$build_dir/fuzz-logs"
log="$build_dir/build.log"
echo "fuzz-smoke: building ${#targets[@]} targets with clang and the sanitizers in $build_dir (log: $log)"
if ! cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHADOWAI_BUILD_FUZZ=ON \
       -DSHADOWAI_BUILD_TESTS=OFF -DSHADOWAI_BUILD_BENCH=OFF \
       -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >"$log" 2>&1 ||
   ! cmake --build "$build_dir" -j2 --target "${targets[@]}" >>"$log" 2>&1; then
  tail -n 40 "$log"
  echo "fuzz-smoke: FAILED: the fuzz build (full log: $log)"
  exit 1
fi
echo "fuzz-smoke: built in $((SECONDS - started)) s"
if $build_only; then exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# UBSan only reports by default; a finding must stop the run like any crash.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=()
for name in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/$name"
  binary="$build_dir/tests/fuzz/$name"
  artifacts="$build_dir/fuzz-artifacts/$name/"
  target_log="$build_dir/fuzz-logs/$name.log"
  mkdir -p "$work/$name" "$artifacts"
  # libFuzzer writes new inputs into the first directory and only reads the others. One run: it
  # runs every seed first (its INITED line follows), then mutates for -max_total_time, counted
  # after LLVMFuzzerInitialize (the masking targets spend ~20 s there under the sanitizers, so a
  # second run just for the seeds cost CI two minutes). -timeout: an input that takes longer is a
  # finding too (it would stall a proxy thread).
  options=(-artifact_prefix="$artifacts" -timeout=25 -print_final_stats=1 "$work/$name" "$seeds")
  if ! "$binary" -max_total_time="$seconds" "${options[@]}" >"$target_log" 2>&1; then
    if grep -q "INITED" "$target_log"; then what="in ${seconds} s of mutation"; else what="on its seeds"; fi
  else
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$target_log" | tail -n 1)
    echo "fuzz-smoke: $name: ok ($(find "$seeds" -type f | wc -l) seeds, ${runs:-?} runs)"
    continue
  fi
  failed+=("$name")
  grep -E -A 30 "^==[0-9]+==|runtime error|deadly signal|Test unit written" "$target_log" | head -n 60 || true
  echo "fuzz-smoke: $name: FAILED $what (report: $target_log, input in $artifacts)"
done

echo "fuzz-smoke: ${#targets[@]} targets in $((SECONDS - started)) s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz-smoke: FAILED: ${failed[*]}"
  exit 1
fi
