#!/usr/bin/env bash
#===- tools/make-variant.sh - one pinned configuration over every kernel ---===#
#
# Compiles a pinned tile configuration for every dtype x head dim x causal
# combination into DEST/<dtype>_<d>[_c]/<target>/<name>.{ptx,json}, the
# layout the runtime's FA4_KERNEL_PATH hook reads (the definition sits beside
# it as <name>.mlir), and checks each with test/kernels/check_ptxas.py, the
# lit suite's ptxas gate: exit 1 if any spills, has a stack frame or is over
# the shared-memory budget. python/tests/check_variant.py checks them on a
# GPU.
#
#   bash tools/make-variant.sh DEST NAME "load_path(tma) stages(2) tile(64, 64) warps(4) q_in_registers(false)"
#
#===----------------------------------------------------------------------===#
set -euo pipefail
DEST="${1:?usage: make-variant.sh DEST NAME CONFIG}"
NAME="${2:?usage: make-variant.sh DEST NAME CONFIG}"
CONFIG="${3:?usage: make-variant.sh DEST NAME CONFIG}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPT="${FA4_OPT:-$ROOT/build/bin/fa4-opt}"
TARGETS="${FA4_VARIANT_TARGETS:-sm_90 sm_120a sm_121a}"
PTXAS="${PTXAS:-$(command -v ptxas || true)}"
status=0
for dtype in bf16 f16; do
  for d in 64 96 128; do
    for causal in "" causal; do
      dir="$DEST/${dtype}_${d}${causal:+_c}"
      mkdir -p "$dir"
      echo "fa4.attention @$NAME dtype($dtype) head_dim($d) head_dim_v($d) $causal $CONFIG" \
        > "$dir/$NAME.mlir"
      for target in $TARGETS; do
        "$OPT" "$dir/$NAME.mlir" --fa4-to-ptx="chip=$target output-dir=$dir/$target" -o /dev/null
      done
      if [ -n "$PTXAS" ]; then
        echo "== $dir"
        python3 "$ROOT/test/kernels/check_ptxas.py" "$PTXAS" "$dir" "$dir" $TARGETS || status=1
      fi
    done
  done
done
[ -n "$PTXAS" ] || echo "ptxas not found (set PTXAS): resources not checked" >&2
exit $status
