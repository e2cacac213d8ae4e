// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-emit-ptx="output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer crash_abi_nonstring of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): fa4.abi = [1]: an unchecked cast in the
// metadata builder.
// (#nvvm.target added so that the input reaches the code that failed.)
// CHECK: error: fa4.abi entries must be non-empty strings

gpu.module @k [#nvvm.target<chip = "sm_120a">] {
  llvm.func @k(%a: i32) attributes {nvvm.kernel, fa4.abi = [1], fa4.features = {}, fa4.smem_bytes = 0 : i64, nvvm.reqntid = array<i32: 32, 1, 1>} {
    llvm.return
  }
}
