// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-emit-ptx="output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer silent_reqntid_1d of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): nvvm.reqntid = [32]: read past the array
// and wrote threads = 0, exit 0.
// (#nvvm.target added so that the input reaches the code that failed.)
// CHECK: error: nvvm.reqntid must be three positive sizes

gpu.module @k [#nvvm.target<chip = "sm_120a">] {
  llvm.func @k(%a: i32) attributes {nvvm.kernel, fa4.abi = ["a"], fa4.features = {}, fa4.smem_bytes = 0 : i64, nvvm.reqntid = array<i32: 32>} {
    llvm.return
  }
}
