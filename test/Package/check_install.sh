#!/usr/bin/env bash
#===- test/Package/check_install.sh - the installed C package -------------===#
#
# Installs the build tree into a fresh prefix (`cmake --install`), then uses
# it the two ways a C or C++ embedder would:
#   * find_package(fa4): builds examples/ on its own against the prefix and
#     runs the example (it reports SKIPPED for the GPU part without a GPU);
#   * pkg-config: compiles a C program with `pkg-config --cflags --libs fa4`
#     and checks that the runtime it loads reports the package's version and
#     its embedded modules.
#
# Usage: check_install.sh <cmake> <build dir> <source dir> <work dir> <version>
#                         [<CUDA toolkit root>]
#
#===----------------------------------------------------------------------===#

set -euo pipefail
cmake="$1" build="$2" source="$3" work="$4" version="$5" cuda_root="${6:-}"
prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"

echo "== cmake --install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
libdir="$(cd "$prefix" && dirname "$(find . -name libfa4_runtime.so | head -1)")"
libdir="${libdir#./}"
for file in include/fa4/Runtime/fa4.h "$libdir/libfa4_runtime.so" \
            "$libdir/cmake/fa4/fa4Config.cmake" \
            "$libdir/cmake/fa4/fa4ConfigVersion.cmake" \
            "$libdir/cmake/fa4/fa4Targets.cmake" "$libdir/pkgconfig/fa4.pc"; do
  [ -f "$prefix/$file" ] || { echo "FAIL: $file was not installed"; exit 1; }
done
# The runtime package and nothing of the compiler (its MLIR libraries).
extra="$(cd "$prefix" && find . -type f | sed 's|^\./||' |
         grep -v -e '^include/fa4/Runtime/fa4\.h$' -e "^$libdir/libfa4_runtime\.so$" \
                 -e "^$libdir/cmake/fa4/fa4[A-Za-z-]*\.cmake$" -e "^$libdir/pkgconfig/fa4\.pc$" || true)"
[ -z "$extra" ] || { echo "FAIL: cmake --install also installed:"; echo "$extra"; exit 1; }

echo "== find_package(fa4) builds examples/ against the installed package"
"$cmake" -S "$source/examples" -B "$work/example" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  ${cuda_root:+-DCUDAToolkit_ROOT="$cuda_root"} >/dev/null
"$cmake" --build "$work/example" >/dev/null
grep -q "^fa4_DIR:PATH=$prefix/$libdir/cmake/fa4\$" "$work/example/CMakeCache.txt" ||
  { echo "FAIL: the example did not find fa4 in $prefix"; exit 1; }
output="$("$work/example/fa4-embed-example")"
echo "$output"
echo "$output" | grep -q "^fa4 $version, [1-9][0-9]* embedded modules" ||
  { echo "FAIL: the example did not report fa4 $version and its modules"; exit 1; }

echo "== pkg-config --cflags --libs fa4"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
[ "$(pkg-config --modversion fa4)" = "$version" ] ||
  { echo "FAIL: pkg-config reports $(pkg-config --modversion fa4), not $version"; exit 1; }
cat > "$work/version.c" <<'C'
#include <fa4/Runtime/fa4.h>
#include <stdio.h>
int main(void) {
  uint64_t n = fa4_module_count();
  printf("%s %llu %s %s\n", fa4_version(), (unsigned long long)n,
         n ? fa4_module_name(0) : "-", n ? fa4_module_target(0) : "-");
  return fa4_module_name(n) == NULL ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc "$work/version.c" -o "$work/version" $(pkg-config --cflags --libs fa4) \
  -Wl,-rpath,"$prefix/$libdir"
line="$("$work/version")"
echo "$line"
case "$line" in
  "$version "[1-9]*" fa4_"*" sm_"*) ;;
  *) echo "FAIL: expected '$version <modules> fa4_... sm_...'"; exit 1 ;;
esac
echo "PASS: the installed package builds and runs the example through find_package and pkg-config"
