// RUN: rm -rf %t && mkdir -p %t && not fa4-opt %s --fa4-emit-ptx="output-dir=%t" -o /dev/null 2>&1 | FileCheck %s
//
// Reproducer upstream_gep_elemtype of the 2026-12-02 fuzzing
// (../shared/repro/fuzz-2026-12-02): Small form of crash04 (an upstream
// verifier gap, caught before translation).
// (#nvvm.target added so that the input reaches the code that failed.)
// CHECK: error: 'llvm.getelementptr' op uses type '!fa4.mbarriers<2>', which LLVM IR cannot express

gpu.module @k [#nvvm.target<chip = "sm_120a">] {
  llvm.func @k(%p: !llvm.ptr<1>, %i: i64) attributes {nvvm.kernel, fa4.abi = ["p", "i"], fa4.features = {}, fa4.smem_bytes = 0 : i64, nvvm.reqntid = array<i32: 32, 1, 1>} {
    %0 = llvm.getelementptr %p[%i] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !fa4.mbarriers<2>
    %c = llvm.mlir.constant(0 : i32) : i32
    llvm.store %c, %0 : i32, !llvm.ptr<1>
    llvm.return
  }
}
