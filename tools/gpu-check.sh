#!/usr/bin/env bash
#===- tools/gpu-check.sh - the GPU half of the tests, and the benchmark ----===#
#
# Runs on a machine with a GPU (and PyTorch), from a prebuilt runtime: the
# Python validation matrix, the C++ GPU test, the C example, compute-sanitizer
# (memcheck, racecheck, synccheck) on one problem per kernel variant, and
# optionally the benchmark. Logs go to $OUT (default /tmp/fa4-gpu).
#
#   bash tools/gpu-check.sh DIST [--bench] [--quick-bench]
#
# DIST holds lib/libfa4_runtime.so and bin/{fa4-gpu-test,fa4-embed-example}
# (`cmake --install` plus the two binaries; see README "Running on a GPU").
#
#===----------------------------------------------------------------------===#

set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$(cd "${1:?usage: gpu-check.sh DIST [--bench|--quick-bench]}" && pwd)"
MODE="${2:-}"
OUT="${OUT:-/tmp/fa4-gpu}"
mkdir -p "$OUT"
export FA4_LIBRARY="$DIST/lib/libfa4_runtime.so"
export PYTHONPATH="$ROOT/python"
export LD_LIBRARY_PATH="$DIST/lib:${LD_LIBRARY_PATH:-}"
export PYTHONUNBUFFERED=1
SUMMARY="$OUT/summary.log"
: > "$SUMMARY"

# step NAME TIMEOUT_S COMMAND...: runs COMMAND, keeps its log, records the
# exit status in the summary.
step() {
  local name="$1" limit="$2"
  shift 2
  echo "== $name" | tee -a "$OUT/steps.log"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 4 "$OUT/$name.log" | tee -a "$OUT/steps.log"
  printf '%-22s rc=%d\n' "$name" "$rc" >> "$SUMMARY"
}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader >> "$SUMMARY"
step pytest 420 python3 -m pytest "$ROOT/python/tests" -q -rs -p no:cacheprovider
step gpu-test 300 "$DIST/bin/fa4-gpu-test"
step embed-example 60 "$DIST/bin/fa4-embed-example"
for tool in memcheck racecheck synccheck; do
  step "sanitizer-$tool" 400 env FA4_TEST_SUBSET=1 compute-sanitizer --tool "$tool" \
    --error-exitcode 9 "$DIST/bin/fa4-gpu-test"
done
case "$MODE" in
  --bench) step bench 560 python3 "$ROOT/bench/bench.py" --out "$OUT" ;;
  --quick-bench) step bench 300 python3 "$ROOT/bench/bench.py" --quick --out "$OUT" ;;
esac
grep -h "passed\|failed\|configurations\|ERROR SUMMARY\|RACECHECK SUMMARY\|fa4_fwd:" \
  "$OUT"/*.log | sort -u >> "$SUMMARY"
cat "$SUMMARY"
