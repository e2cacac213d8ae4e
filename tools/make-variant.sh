#!/usr/bin/env bash
#===- tools/make-variant.sh - one pinned configuration over every kernel ---===#
#
# Compiles a pinned tile configuration for every dtype x head dim x causal
# combination into DEST/<dtype>_<d>[_c]/<target>/<name>.{ptx,json}, the
# layout the runtime's FA4_KERNEL_PATH hook reads, and prints ptxas's
# resource line per kernel. python/tests/check_variant.py checks them on a
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
SRC="$(mktemp)"
trap 'rm -f "$SRC"' EXIT
for dtype in bf16 f16; do
  for d in 64 96 128; do
    for causal in "" causal; do
      dir="$DEST/${dtype}_${d}${causal:+_c}"
      echo "fa4.attention @$NAME dtype($dtype) head_dim($d) head_dim_v($d) $causal gqa lse $CONFIG" > "$SRC"
      for target in $TARGETS; do
        "$OPT" "$SRC" --fa4-to-ptx="chip=$target output-dir=$dir/$target" -o /dev/null
        if command -v ptxas > /dev/null; then
          printf '%-12s %-8s %s\n' "${dtype}_${d}${causal:+_c}" "$target" \
            "$(ptxas -v -arch="$target" "$dir/$target/$NAME.ptx" -o /dev/null 2>&1 |
               grep -oE 'Used [0-9]+ registers|[0-9]+ bytes (stack frame|spill stores)' |
               paste -sd, -)"
        fi
      done
    done
  done
done
