#!/usr/bin/env bash
#===- tools/fa4.sh - set up, build, generate kernels, test -----------------===#
#
# The README's two commands, on a fresh Debian 12 machine with the CUDA toolkit:
#
#   bash tools/fa4.sh kernels   # install what is missing, build, generate the
#                               # SM120 PTX from kernels/, print each file and
#                               # its ptxas resource line
#   bash tools/fa4.sh test      # install what is missing, build, run every test
#
# `test` then builds the Python wheel (runtime only, from the kernels just
# generated), installs it into a fresh virtual environment and imports it
# there, from outside the source tree, with no environment variables.
#
# `test` then builds fa4-opt with the other C++ compiler (g++ if BUILD_DIR
# used clang, clang if it used g++) in BUILD_DIR-<compiler> and regenerates
# every kernel for FA4_TARGET with it: the PTX and metadata must equal
# BUILD_DIR's byte for byte. (Two ops built in one argument list come out
# in an order the C++ compiler picks, and g++ and clang pick differently.)
#
# `test` then builds fa4 again with clang, AddressSanitizer and UBSan in
# BUILD_DIR-asan (embedding the kernels BUILD_DIR generated and checked,
# rather than generating them a second time), runs the lit and runtime
# suites with it, and runs the libFuzzer target for FUZZ_SECONDS with a
# fixed seed.
#
# Environment: BUILD_DIR (default: build), JOBS (default: nproc),
# FA4_TARGET (the target `kernels` reports, default sm_120a),
# FA4_HOST_COMPILER_CHECK=0 (skip the second compiler's build),
# FA4_SANITIZERS=0 (skip the sanitizer build and the fuzzer),
# FUZZ_SECONDS (default 60).
#
#===----------------------------------------------------------------------===#

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"
TARGET="${FA4_TARGET:-sm_120a}"
LLVM_PACKAGES=(llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools)
SYSTEM_PACKAGES=(cmake ninja-build python3 python3-pip python3-venv g++ zlib1g-dev pkg-config)
# The sanitizer build and the fuzzer (`test` only): clang with its runtimes.
SANITIZER_PACKAGES=(clang-22 libclang-rt-22-dev)
SANITIZE="${FA4_SANITIZERS:-1}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"

log() { printf '== %s\n' "$*"; }
die() { printf 'fa4.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

#===----------------------------------------------------------------------===#
# Dependencies
#===----------------------------------------------------------------------===#

install_missing() {
  local missing=() wanted=("${LLVM_PACKAGES[@]}" "${SYSTEM_PACKAGES[@]}")
  [ "${1:-}" = sanitizers ] && wanted+=("${SANITIZER_PACKAGES[@]}")
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  command -v llvm-config-22 >/dev/null || die "llvm-config-22 not found after installing LLVM 22"

  # The CUDA toolkit is a prerequisite (cuda.h for the runtime, ptxas for the
  # resource checks); it is not a Debian package.
  local cuda=""
  for dir in "${CUDA_HOME:-}" /usr/local/cuda "$(dirname "$(dirname "$(command -v nvcc 2>/dev/null || echo /x/x)")")"; do
    if [ -n "$dir" ] && [ -f "$dir/include/cuda.h" ]; then cuda="$dir"; break; fi
  done
  [ -n "$cuda" ] || die "the CUDA toolkit (cuda.h, ptxas) was not found: set CUDA_HOME"
  export CUDA_HOME="$cuda"
  export PATH="$PATH:$cuda/bin"

  if ! python3 -c "import pytest" 2>/dev/null; then
    log "installing pytest"
    python3 -m pip install -q pytest 2>/dev/null ||
      python3 -m pip install -q --break-system-packages pytest
  fi
}

#===----------------------------------------------------------------------===#
# Build
#===----------------------------------------------------------------------===#

# configure DIR CC CXX WHAT [CMAKE_ARGS...]: a Release build of fa4 in DIR
# with the given compilers, against Debian's LLVM/MLIR 22, unless DIR is
# configured already.
configure() {
  local dir="$1" cc="$2" cxx="$3" what="$4" prefix
  shift 4
  [ -f "$dir/build.ninja" ] && return
  prefix="$(llvm-config-22 --prefix)"
  log "configuring $what in $dir ($cxx)"
  cmake -G Ninja -S "$ROOT" -B "$dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DMLIR_DIR="$prefix/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$prefix/bin/lit" \
    -DCUDAToolkit_ROOT="$CUDA_HOME" "$@" >/dev/null
}

build() {
  local cxx=g++ cc=gcc
  if command -v clang++-22 >/dev/null; then cxx=clang++-22; cc=clang-22; fi
  cxx="${CXX:-$cxx}"
  cc="${CC:-$cc}"
  configure "$BUILD_DIR" "$cc" "$cxx" fa4
  log "building (-j$JOBS)"
  ninja -C "$BUILD_DIR" -j "$JOBS"
}

#===----------------------------------------------------------------------===#
# Commands
#===----------------------------------------------------------------------===#

cmd_kernels() {
  install_missing
  build
  local ptxas="$CUDA_HOME/bin/ptxas"
  log "PTX for $TARGET from kernels/ (fa4-opt --fa4-to-ptx=\"chip=$TARGET\")"
  for source in "$ROOT"/kernels/*.mlir; do
    local name ptx line
    name="$(basename "$source" .mlir)"
    ptx="$BUILD_DIR/kernels/$TARGET/$name.ptx"
    [ -f "$ptx" ] || die "$ptx was not generated"
    line="$("$ptxas" -v -arch="$TARGET" "$ptx" -o /dev/null 2>&1 |
            grep -E 'bytes stack frame|Used [0-9]+ registers' |
            sed 's/^ptxas info *: *//; s/^ *//' | paste -sd';' - | sed 's/;/; /')"
    printf '%s\n    %s; %s B dynamic shared memory\n' "$ptx" "$line" \
      "$(python3 -c 'import json,sys; print(max(k["smem_bytes"] for k in json.load(open(sys.argv[1]))["kernels"]))' "${ptx%.ptx}.json")"
  done
  log "metadata next to each file (<kernel>.json); all targets in $BUILD_DIR/kernels"
}

cmd_test() {
  if [ "$SANITIZE" = 0 ]; then install_missing; else install_missing sanitizers; fi
  build
  log "running every test (lit, runtime, GPU, Python)"
  ctest --test-dir "$BUILD_DIR" --output-on-failure --verbose
  package
  HOST_COMPILER_CHECKED=0
  [ "${FA4_HOST_COMPILER_CHECK:-1}" = 0 ] || host_compiler_check
  if [ "$HOST_COMPILER_CHECKED" = 0 ]; then
    log "every kernel for $TARGET again, verifying the IR after each pass"
    regenerate_kernels "$BUILD_DIR/bin/fa4-opt" "$BUILD_DIR/kernels-verified"
  fi
  [ "$SANITIZE" = 0 ] || sanitize
}

# Compiles every kernel for $TARGET with OPT into DIR, verifying the IR
# after every pass (--verify-each=true, which the kernel build leaves out
# for speed), and dies unless the files equal the build's.
regenerate_kernels() {
  local opt="$1" dir="$2"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '%s\0' "$ROOT"/kernels/*.mlir | xargs -0 -P "$JOBS" -I{} \
    "$opt" {} --verify-each=true \
      --fa4-to-ptx="chip=$TARGET output-dir=$dir" -o /dev/null
  if ! diff -rq "$BUILD_DIR/kernels/$TARGET" "$dir"; then
    die "the kernels above differ from $BUILD_DIR/kernels/$TARGET when $opt regenerates them"
  fi
  log "$(ls "$dir" | wc -l) files identical to $BUILD_DIR/kernels/$TARGET"
}

# fa4-opt built with the other C++ compiler must generate the same kernels:
# the IR a pass builds may not depend on the host compiler's evaluation
# order of function arguments. Sets HOST_COMPILER_CHECKED=1 when it ran.
host_compiler_check() {
  local used cxx cc dir
  used="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")"
  case "$(basename "$used")" in
    clang*) cxx=g++ cc=gcc ;;
    *) cxx=clang++-22 cc=clang-22 ;;
  esac
  if ! command -v "$cxx" >/dev/null; then
    log "SKIPPED the host-compiler check: $BUILD_DIR used $used and $cxx is not installed"
    return
  fi
  dir="$BUILD_DIR-$cxx"
  configure "$dir" "$cc" "$cxx" "fa4-opt alone" \
    -DFA4_BUILD_RUNTIME=OFF -DFA4_BUILD_TESTS=OFF
  log "building fa4-opt with $cxx (-j$JOBS)"
  ninja -C "$dir" -j "$JOBS" bin/fa4-opt
  log "every kernel for $TARGET with $cxx's fa4-opt, against $BUILD_DIR/kernels/$TARGET (a difference: look for two ops built in one argument list)"
  regenerate_kernels "$dir/bin/fa4-opt" "$dir/kernels-check"
  log "the kernels are identical between $(basename "$used") and $cxx builds of fa4-opt"
  HOST_COMPILER_CHECKED=1
}

# The wheel as a user on a machine without MLIR gets it: built from this
# build's kernels (FA4_BUILD_COMPILER=OFF), installed into a new virtual
# environment, imported and asked for its view (`python -m fa4`) from /.
# (--config-settings, not -C: Debian 12's pip 23.0 lacks the short form.)
package() {
  local venv="$BUILD_DIR-venv" wheels="$BUILD_DIR-wheelhouse"
  rm -rf "$venv" "$wheels"
  log "building the wheel (runtime only, from $BUILD_DIR/kernels) into $wheels"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip wheel -q --no-deps -w "$wheels" "$ROOT" \
    --config-settings=cmake.define.FA4_BUILD_COMPILER=OFF \
    --config-settings=cmake.define.FA4_PTX_DIR="$BUILD_DIR/kernels" \
    --config-settings=build-dir="$BUILD_DIR-wheel"
  log "installing $(basename "$wheels"/fa4-*.whl) into the fresh environment $venv"
  "$venv/bin/python" -m pip install -q "$wheels"/fa4-*.whl
  (cd / && env -u FA4_LIBRARY -u PYTHONPATH "$venv/bin/python" -c \
    'import fa4; from fa4 import _runtime as rt
print("import fa4:", fa4.__version__, "from", fa4.__file__)
assert "site-packages" in fa4.__file__, "fa4 was not imported from the environment"
assert "site-packages" in rt.library().fa4_path, "the runtime is not the installed one"' &&
   env -u FA4_LIBRARY -u PYTHONPATH "$venv/bin/python" -m fa4)
}

# The compiler, the runtime and their tests built with clang, ASan and UBSan
# (fa4's code instrumented, Debian's LLVM/MLIR not), then the lit and runtime
# suites under them (the Python tests load the library into an
# uninstrumented interpreter, so they run in the plain build only), then a
# fixed-seed fuzzing run over a corpus of every kernel and lit input.
sanitize() {
  local dir="$BUILD_DIR-asan"
  configure "$dir" clang-22 clang++-22 \
    "the sanitizer build (ASan + UBSan, fuzzer)" \
    -DFA4_BUILD_FUZZER=ON -DFA4_PTX_DIR="$BUILD_DIR/kernels"
  log "building the sanitizer build (-j$JOBS)"
  ninja -C "$dir" -j "$JOBS"
  log "lit and runtime suites under ASan + UBSan"
  # allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its free space
  # when compiled with ASan (fa4's inline instantiations are) but not when
  # not (libMLIR's are), so MLIR's own bump allocations inside fa4-created
  # slabs read as use-after-poison: a false positive of mixing the two.
  # The same options hold for the fuzzer below.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allow_user_poisoning=0
  export UBSAN_OPTIONS=print_stacktrace=1
  ctest --test-dir "$dir" --output-on-failure -R '^(lit|runtime)$'
  log "fuzzing fa4-opt's parse -> verify -> passes for ${FUZZ_SECONDS}s (seed 1)"
  local corpus="$dir/fuzz-corpus"
  rm -rf "$corpus" "$dir/fuzz-artifacts"
  mkdir -p "$dir/fuzz-artifacts"
  python3 "$ROOT/tools/fa4-fuzz/make_corpus.py" "$BUILD_DIR/bin/fa4-opt" "$corpus"
  "$dir/bin/fa4-fuzz" -seed=1 -max_total_time="$FUZZ_SECONDS" -timeout=30 \
    -rss_limit_mb=4096 -max_len=300000 -print_final_stats=1 \
    -artifact_prefix="$dir/fuzz-artifacts/" "$corpus"
}

case "${1:-}" in
  kernels) cmd_kernels ;;
  test) cmd_test ;;
  *) die "usage: $0 kernels|test" ;;
esac
