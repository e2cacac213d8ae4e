#!/usr/bin/env bash
#===- tools/check-llvm-pipeline.sh - the skipped LLVM passes change nothing -===#
#
# fa4-emit-ptx leaves out LLVM passes that change none of fa4's kernels
# (lib/Target/PTX/LLVMPipeline.cpp). This compiles every definition in
# kernels/ (or the ones given) for each target twice, with fa4's pipeline
# and with all of LLVM's (full-llvm-pipeline=true), and compares the PTX
# and metadata byte for byte: exit 1, naming the kernels, if any differs.
# Run it after a change to the lowering or to LLVM: a skipped pass may then
# have work to do, and must go back into the pipeline.
#
#   bash tools/check-llvm-pipeline.sh [kernels/NAME.mlir ...]
#
# FA4_OPT (default build/bin/fa4-opt) and FA4_CHECK_TARGETS (default
# "sm_120a sm_121a sm_90") select the compiler and the targets.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPT="${FA4_OPT:-$ROOT/build/bin/fa4-opt}"
TARGETS="${FA4_CHECK_TARGETS:-sm_120a sm_121a sm_90}"
[[ -x "$OPT" ]] || { echo "check-llvm-pipeline: no fa4-opt at $OPT" >&2; exit 2; }
if (($#)); then
  KERNELS=("$@")
else
  mapfile -t KERNELS < <(cd "$ROOT" && git ls-files 'kernels/*.mlir' | sed "s|^|$ROOT/|")
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
status=0
for target in $TARGETS; do
  for pipeline in fa4 full; do
    extra=""
    [[ $pipeline == full ]] && extra=" full-llvm-pipeline=true"
    mkdir -p "$WORK/$target/$pipeline"
    printf '%s\0' "${KERNELS[@]}" | xargs -0 -P "$(nproc)" -I{} \
      "$OPT" {} --fa4-to-ptx="chip=$target output-dir=$WORK/$target/$pipeline$extra" -o /dev/null
  done
  if diff -rq "$WORK/$target/fa4" "$WORK/$target/full" > "$WORK/diff" ; then
    echo "$target: ${#KERNELS[@]} kernels, PTX and metadata identical"
  else
    status=1
    echo "$target: differs with the full LLVM pipeline:"
    sed 's/^/  /' "$WORK/diff"
  fi
done
exit $status
