#!/usr/bin/env bash
#===- tools/gpu-check.sh - the GPU half of the tests, and the benchmark ----===#
#
# Runs on a machine with a GPU (and PyTorch), from a prebuilt runtime. With
# --tests (the default): the Python validation matrix, the C++ GPU test, the
# C example, compute-sanitizer (memcheck, racecheck, synccheck) on one
# problem per kernel variant and load path. With --bench / --quick-bench: the
# benchmark over the load paths in FA4_BENCH_PATHS. Logs go to $OUT
# (default /tmp/fa4-gpu): summary.log, run.log, pytest.log, bench.*.
#
#   bash tools/gpu-check.sh DIST [--tests] [--bench] [--quick-bench]
#
# Environment: FA4_PYTEST_ARGS (default: the whole python/tests), FA4_SANITIZERS
# (default "memcheck racecheck synccheck"), FA4_BENCH_PATHS.
#
# DIST holds lib/libfa4_runtime.so and bin/{fa4-gpu-test,fa4-embed-example}
# (`cmake --install` plus the two binaries; see README "Running on a GPU").
#
#===----------------------------------------------------------------------===#

set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$(cd "${1:?usage: gpu-check.sh DIST [--bench|--quick-bench]}" && pwd)"
shift
MODES=" $* "
[ "$MODES" = "  " ] && MODES=" --tests "
OUT="${OUT:-/tmp/fa4-gpu}"
mkdir -p "$OUT"
export FA4_LIBRARY="$DIST/lib/libfa4_runtime.so"
export PYTHONPATH="$ROOT/python"
export LD_LIBRARY_PATH="$DIST/lib:${LD_LIBRARY_PATH:-}"
export PYTHONUNBUFFERED=1
SUMMARY="$OUT/summary.log"
: > "$SUMMARY"

# step NAME TIMEOUT_S COMMAND...: runs COMMAND, appends its output to
# run.log, records the exit status in the summary.
step() {
  local name="$1" limit="$2"
  shift 2
  echo "== $name" | tee -a "$OUT/run.log"
  timeout "$limit" "$@" > "$OUT/step.log" 2>&1
  local rc=$?
  cat "$OUT/step.log" >> "$OUT/run.log"
  tail -n 4 "$OUT/step.log"
  rm -f "$OUT/step.log"
  printf '%-22s rc=%d\n' "$name" "$rc" >> "$SUMMARY"
}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader >> "$SUMMARY"
if [[ "$MODES" == *" --tests "* ]]; then
  echo "== pytest"
  # shellcheck disable=SC2086
  timeout 420 python3 -m pytest ${FA4_PYTEST_ARGS:-"$ROOT/python/tests"} -q -rs -s \
    -p no:cacheprovider > "$OUT/pytest.log" 2>&1
  printf '%-22s rc=%d\n' pytest "$?" >> "$SUMMARY"
  tail -n 6 "$OUT/pytest.log"
  step gpu-test 300 "$DIST/bin/fa4-gpu-test"
  step embed-example 60 "$DIST/bin/fa4-embed-example"
  for tool in ${FA4_SANITIZERS:-memcheck racecheck synccheck}; do
    step "sanitizer-$tool" 400 env FA4_TEST_SUBSET=1 compute-sanitizer --tool "$tool" \
      --error-exitcode 9 "$DIST/bin/fa4-gpu-test"
  done
fi
PATHS="${FA4_BENCH_PATHS:-cp_async,tma,auto}"
if [[ "$MODES" == *" --bench "* ]]; then
  step bench 560 python3 "$ROOT/bench/bench.py" --paths "$PATHS" --out "$OUT"
elif [[ "$MODES" == *" --quick-bench "* ]]; then
  step bench 300 python3 "$ROOT/bench/bench.py" --quick --paths "$PATHS" --out "$OUT"
fi
grep -h "passed\|failed\|configurations\|ERROR SUMMARY\|RACECHECK SUMMARY\|fa4_fwd:\|worst" \
  "$OUT"/*.log | sort -u >> "$SUMMARY"
cat "$SUMMARY"
